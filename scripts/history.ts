#!/usr/bin/env -S npx tsx
// After an application ends, the master shows it only as a row: the History Server rebuilds its
// UI (jobs, stages, SQL, executors) from the event log every driver the tool starts writes. Started
// on the cluster's image, reading the logs where its drivers write them, then served on
// http://localhost:18080 like `npm run ui` serves the master's.
import { clusterDrivers } from './lib/cluster-image.ts'
import { parseConfig, type Config } from './lib/config.ts'
import { StepError } from './lib/errors.ts'
import { historyServer } from './lib/history-server.ts'
import { installInterruptHandler } from './lib/interrupt.ts'
import { runIfMain } from './lib/main.ts'
import { serveUntilStopped } from './lib/serve.ts'
import { describeOutcome, type StepOutcome } from './lib/outcome.ts'
import { resolvePlatform } from './lib/platform.ts'
import type { ClusterStorage } from './lib/storage.ts'
import { makeTarget, type Target } from './lib/target.ts'
import { openInBrowser } from './ui.ts'

/** Why a History Server cannot run on this storage (undefined: it can): it would find no log directory, and stop. */
export function historyStorageProblem(storage: ClusterStorage): StepError | undefined {
  if (!storage.eventsOff) return undefined
  return new StepError(
    "this cluster's drivers write no event log (cluster:up said why), so a History Server would have nothing to show",
    '  - npm run cluster:up -- --data-claim NAME (a ReadWriteMany claim) gives them one; or --data DIR on Docker and minikube',
  )
}

/** Starts (or keeps) the History Server on the cluster's image and storage. */
export async function applyHistory(target: Target): Promise<StepOutcome> {
  const { image, storage } = await clusterDrivers(target)
  const problem = historyStorageProblem(storage)
  if (problem) throw problem
  const server = historyServer(target)
  return server.apply(server.render(image, storage))
}

/** Prints where the UI is, then serves the forward (if any) until stopped. */
export async function serveHistory(target: Target, config: Pick<Config, 'port' | 'open' | 'json'>): Promise<number> {
  const forwarding = await historyServer(target).reach(config.port)
  if (config.json) console.log(JSON.stringify({ ok: true, command: 'history', platform: target.platform, url: forwarding.url, via: forwarding.how }))
  else console.log(`Spark History Server: ${forwarding.url}  (${forwarding.how}${forwarding.keepsRunning ? '; Ctrl-C stops it' : ''})`)
  if (config.open) await openInBrowser(forwarding.url)
  return serveUntilStopped(forwarding)
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('history', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  const target = makeTarget(config, platform)
  installInterruptHandler()
  console.error(describeOutcome(await applyHistory(target)))
  console.error(await historyServer(target).waitReady((line) => console.error(line)))
  process.exitCode = await serveHistory(target, config)
})
