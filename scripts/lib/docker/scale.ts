import { authConfAnnotation, withAuthConfDigest } from '../cluster-secret.ts'
import { StepError } from '../errors.ts'
import { podTemplate, renderCluster } from '../manifests.ts'
import type { ScaleOutcome } from '../runtime.ts'
import { storageAnnotation, storageOf, withStorage } from '../storage.ts'
import type { Target } from '../target.ts'
import { decodeShape, describeChanges, dockerLayout, encodeShape, listContainers, reconcileWorkers, shapeLabel, stopPlan, workerPlans } from './containers.ts'

/** New workers copy the running ones (image, cores, memory, the conf they started on), which carry their shape as labels. */
export async function scaleDockerWorkers(target: Target, count: number): Promise<ScaleOutcome> {
  const layout = dockerLayout(target.manifests)
  const containers = await listContainers(layout.ourLabels)
  const running = containers.find((c) => c.labels.role === 'worker')
  const shape = decodeShape(running?.labels[shapeLabel])
  if (!shape) throw new StepError('no Spark worker containers to copy here: run `npm run cluster:up` first')
  const rendered = renderCluster(target.manifests, { ...shape, workers: count, namespace: target.config.namespace })
  const digest = running?.labels[authConfAnnotation]
  if (digest) withAuthConfDigest(rendered.worker, digest)
  // The data and groups they mount too (recorded since the tool mounts data), or the new ones would differ from them and lack the data.
  if (running?.labels[storageAnnotation]) withStorage(podTemplate(rendered.worker), storageOf(running.labels))
  const changes = await reconcileWorkers(
    workerPlans(rendered.worker, layout, count, encodeShape(shape)),
    containers.filter((c) => c.labels.role === 'worker'),
    stopPlan(podTemplate(rendered.worker)),
  )
  const expected = { count, cores: shape.workerCores, memory: shape.workerMemory }
  const summary = describeChanges(changes)
  return summary ? { done: summary, expected } : { skipped: `already ${count} worker containers`, expected }
}
