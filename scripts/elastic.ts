// Elastic workers (`cluster:up --workers MIN..MAX`): a controller in the cluster (manifests/elastic/)
// adds a worker when an application waits for cores and removes one that runs no executor for
// --worker-idle. cluster:up starts it, a fixed count (cluster:up --workers N, scale N) ends it.
import { describeEndedRange, workersInRange } from './lib/elastic.ts'
import { UsageError } from './lib/errors.ts'
import type { StepOutcome } from './lib/outcome.ts'
import type { ElasticWorkers } from './lib/runtime.ts'
import type { Target } from './lib/target.ts'

/** The runtime's controller; a range it cannot run is bad input, refused before anything changes (exit 2). */
export function elasticWorkers(target: Target): ElasticWorkers {
  const { elastic } = target.runtime
  if ('refusal' in elastic) throw new UsageError(elastic.refusal)
  return elastic
}

/** Whether this runtime can run the controller at all (Docker cannot: nothing of it to end there). */
export function runsElastic(target: Target): boolean {
  return !('refusal' in target.runtime.elastic)
}

/**
 * The worker count cluster:up applies: --workers N; with a range the count running now when it is
 * inside it (what the controller chose stays, so no cluster:up fights it), else the nearer end.
 */
export async function startingWorkers(target: Target): Promise<number> {
  const { workerRange, workers } = target.config
  return workerRange ? workersInRange(await elasticWorkers(target).liveWorkers(), workerRange) : workers
}

/** cluster:up with a range: the controller applied, or left alone when it matches. */
export async function applyElastic(target: Target, image: string): Promise<StepOutcome> {
  const { workerRange, workerIdleSeconds } = target.config
  return elasticWorkers(target).apply(image, workerRange!, workerIdleSeconds)
}

/** A fixed count again (cluster:up --workers N, scale N): the controller removed first, so it changes no count after this one. */
export async function endElastic(target: Target, workers: number): Promise<StepOutcome> {
  if (!runsElastic(target)) return { skipped: `${workers} fixed workers` }
  const ended = await elasticWorkers(target).end()
  return ended ? { done: `${describeEndedRange(ended, workers)} (spark-autoscaler removed)` } : { skipped: `no elastic range was set: ${workers} fixed workers` }
}
