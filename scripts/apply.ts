#!/usr/bin/env -S npx tsx
// README step "kubectl apply -f spark-master.yml / spark-worker.yml": server-side apply of the parsed
// manifests with only the run-time values set, after the cluster's Secret (RPC authentication and
// encryption); on Docker the same pod templates become containers and the Secret a volume. A
// Connect server, History Server or JupyterLab that runs is brought along: Spark reads its conf and mounts
// only when a process starts, so one left as it was keeps the old secret, S3 keys and folder.
import { parseConfig, type DeletableRole } from './lib/config.ts'
import { connectServer } from './lib/connect-server.ts'
import { historyServer } from './lib/history-server.ts'
import { localClusterImage, notebookImageReference } from './lib/notebook-image.ts'
import { notebookServer } from './lib/notebook-server.ts'
import { runIfMain } from './lib/main.ts'
import type { ServerManifests } from './lib/manifests.ts'
import { describeOutcome, type StepOutcome } from './lib/outcome.ts'
import { resolvePlatform } from './lib/platform.ts'
import { describeRoll, rollReasons, type ClusterServer, type RunningServer } from './lib/server.ts'
import type { ClusterStorage } from './lib/storage.ts'
import { makeTarget, type Target } from './lib/target.ts'
import { imageReference } from './build-image.ts'
import { connectConfProblem, connectImageProblem } from './connect.ts'
import { historyStorageProblem } from './history.ts'
import { notebookConfProblem } from './notebook.ts'
import { startingWorkers } from './elastic.ts'

export interface AppliedCluster {
  outcome: StepOutcome
  /** The servers rolled: the rollout wait waits for them too. */
  rolled: ClusterServer[]
}

/** What became of one running server: said in the step's line, and rolled (to wait for) or removed. */
interface ServerChange {
  said: string
  rolled?: ClusterServer
}

/**
 * Applies the cluster where the target says (server-side apply on Kubernetes, containers on
 * Docker), then re-applies each server that runs as `npm run connect` / `npm run history` would
 * start it now: rolled when that differs, left alone when not. One that does not run stays so.
 */
export async function applyCluster(target: Target, image: string, storage: ClusterStorage, workers: number): Promise<AppliedCluster> {
  const outcome = await target.runtime.apply(image, storage, workers)
  const changes = (await Promise.all([rollConnect(target, image, storage), rollHistory(target, image, storage), rollNotebook(target, image, storage)])).filter((change) => change !== undefined)
  return { outcome: withServerChanges(outcome, changes.map((change) => change.said)), rolled: changes.flatMap((change) => (change.rolled ? [change.rolled] : [])) }
}

async function rollConnect(target: Target, image: string, storage: ClusterStorage): Promise<ServerChange | undefined> {
  const server = connectServer(target)
  const live = await server.running()
  if (!live) return undefined
  const imageProblem = connectImageProblem(image)
  if (imageProblem) return removeServer(target, server, 'connect', imageProblem.message)
  const conf = await server.authConf(image)
  const confProblem = connectConfProblem(conf)
  if (confProblem) return removeServer(target, server, 'connect', confProblem.message)
  return rollServer(server, live, server.render(image, conf!, storage))
}

async function rollHistory(target: Target, image: string, storage: ClusterStorage): Promise<ServerChange | undefined> {
  const server = historyServer(target)
  const live = await server.running()
  if (!live) return undefined
  const problem = historyStorageProblem(storage)
  if (problem) return removeServer(target, server, 'history', problem.message)
  return rollServer(server, live, server.render(image, storage))
}

/**
 * JupyterLab runs an image built on the cluster's: kept (and rolled for a new conf or storage) while
 * that is still the cluster's, else removed, as building a new one is `npm run notebook`'s to do.
 */
async function rollNotebook(target: Target, image: string, storage: ClusterStorage): Promise<ServerChange | undefined> {
  const server = notebookServer(target)
  const live = await server.running()
  if (!live) return undefined
  const wanted = notebookImageReference(image)
  if (localClusterImage(live.image) !== wanted) {
    return removeServer(target, server, 'notebook', `its image is not ${wanted}, built on the cluster's image as it is now (npm run notebook builds it; your notebooks stay)`)
  }
  const conf = await target.runtime.authConf(image)
  const problem = notebookConfProblem(conf)
  if (problem) return removeServer(target, server, 'notebook', problem.message)
  return rollServer(server, live, server.render(live.image, conf!, storage))
}

async function rollServer(server: ClusterServer, live: RunningServer, rendered: ServerManifests): Promise<ServerChange | undefined> {
  const outcome = await server.apply(rendered)
  if ('skipped' in outcome) return undefined
  return { said: describeRoll(server.what, rollReasons(live, rendered), outcome.done), rolled: server }
}

/** One the cluster can no longer run safely (Spark 3.5's Connect has no token) is removed rather than left on the old conf. */
async function removeServer(target: Target, server: ClusterServer, role: DeletableRole, why: string): Promise<ServerChange> {
  await target.runtime.deleteCluster(role)
  return { said: `${server.what} removed: ${why}` }
}

/** The cluster's outcome with what became of the servers: done when any changed. */
function withServerChanges(outcome: StepOutcome, said: string[]): StepOutcome {
  if (said.length === 0) return outcome
  return 'done' in outcome ? { done: [outcome.done, ...said].join('; ') } : { done: [...said, outcome.skipped].join('; ') }
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('up', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  const target = makeTarget(config, platform)
  // What cluster:up deploys: the image as the runtime pins it (its digest or ID), not the bare tag.
  const { image } = await target.runtime.publishImage(imageReference(config))
  console.log(describeOutcome((await applyCluster(target, image, (await target.runtime.prepareStorage()).storage, await startingWorkers(target))).outcome))
})
