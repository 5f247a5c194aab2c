#!/usr/bin/env -S npx tsx
// A notebook on the cluster in one command: JupyterLab runs in the cluster on the cluster's own image
// (its kernel a PySpark driver with the executors' Python and packages), behind the token in the
// cluster's secret, and is served on http://localhost:8888 like `npm run ui` serves the master's UI.
import { clusterDrivers } from './lib/cluster-image.ts'
import { notebookTokenOf } from './lib/cluster-secret.ts'
import { tokenConfProblem } from './lib/server.ts'
import { parseConfig, type Config } from './lib/config.ts'
import { StepError } from './lib/errors.ts'
import { installInterruptHandler } from './lib/interrupt.ts'
import { runIfMain } from './lib/main.ts'
import type { Forwarding } from './lib/master-ui.ts'
import { buildNotebookImage, notebookImageProblem, notebookImageReference } from './lib/notebook-image.ts'
import { notebookServer } from './lib/notebook-server.ts'
import { describeOutcome, type StepOutcome } from './lib/outcome.ts'
import { resolvePlatform } from './lib/platform.ts'
import { serveUntilStopped } from './lib/serve.ts'
import type { ClusterStorage } from './lib/storage.ts'
import { makeTarget, type Target } from './lib/target.ts'
import { openInBrowser } from './ui.ts'

/** What JupyterLab starts from: the running cluster's image, storage and conf (which holds its token). */
export interface NotebookCluster {
  clusterImage: string
  storage: ClusterStorage
  conf: string
  token: string
}

/** What a browser needs, as printed and as --json returns it. */
export interface NotebookInfo {
  /** http://localhost:<port>/lab?token=… */
  url: string
  via: string
  /** Where the notebooks live, in words. */
  notebooks: string
}

/**
 * Why JupyterLab may not start on the cluster's conf (undefined: it may): its in-image config refuses
 * to start without the token, and an open server is never an option.
 */
export function notebookConfProblem(conf: string | undefined): StepError | undefined {
  return tokenConfProblem(conf, notebookTokenOf, { server: 'JupyterLab', lacks: 'the notebook and holds no JupyterLab token', kept: 'the RPC secret and the Connect token stay', command: 'notebook' })
}

/** The running cluster, checked: an image the tool built (JupyterLab's builds on it), a conf with the token. */
export async function notebookCluster(target: Target): Promise<NotebookCluster> {
  const { image, storage } = await clusterDrivers(target)
  const refused = notebookImageProblem(image)
  if (refused) throw refused
  const conf = await target.runtime.authConf(image)
  const problem = notebookConfProblem(conf)
  if (problem) throw problem
  return { clusterImage: image, storage, conf: conf!, token: notebookTokenOf(conf!)! }
}

/** Starts (or keeps) JupyterLab on its published image, with the cluster's conf and storage. */
export async function applyNotebook(target: Target, image: string, cluster: NotebookCluster): Promise<StepOutcome> {
  const server = notebookServer(target)
  return server.apply(server.render(image, cluster.conf, cluster.storage))
}

export function notebookInfo(forwarding: Forwarding, token: string, notebooks: string): NotebookInfo {
  return { url: `${forwarding.url}/lab?token=${token}`, via: forwarding.how, notebooks }
}

export function formatNotebook(info: NotebookInfo, keepsRunning: boolean): string {
  return [
    `JupyterLab: ${info.url}`,
    `  (${info.via}${keepsRunning ? '; Ctrl-C stops it' : ''})`,
    `  your notebooks: ${info.notebooks} (cluster:down keeps them)`,
    "  a kernel's application UI: npm run ui, then the application's link on the master's page",
  ].join('\n')
}

/** Prints the URL, opens it when asked, then serves the forward (if any) until stopped. */
export async function serveNotebook(target: Target, cluster: Pick<NotebookCluster, 'token' | 'storage'>, config: Pick<Config, 'port' | 'open' | 'json'>): Promise<number> {
  const server = notebookServer(target)
  const forwarding = await server.reach(config.port)
  const info = notebookInfo(forwarding, cluster.token, server.notebooksHome(cluster.storage))
  console.log(config.json ? JSON.stringify({ ok: true, command: 'notebook', platform: target.platform, ...info }) : formatNotebook(info, forwarding.keepsRunning))
  if (config.open) await openInBrowser(info.url, { secret: true })
  return serveUntilStopped(forwarding)
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('notebook', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  const target = makeTarget(config, platform)
  installInterruptHandler()
  const cluster = await notebookCluster(target)
  const reference = notebookImageReference(cluster.clusterImage)
  console.error(describeOutcome(await buildNotebookImage(reference, cluster.clusterImage, (line) => console.error(line))))
  const published = await target.runtime.publishImage(reference, cluster.clusterImage)
  console.error(describeOutcome(published))
  console.error(describeOutcome(await applyNotebook(target, published.image, cluster)))
  console.error(await notebookServer(target).waitReady((line) => console.error(line)))
  process.exitCode = await serveNotebook(target, cluster, config)
})
