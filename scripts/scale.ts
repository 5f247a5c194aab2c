#!/usr/bin/env -S npx tsx
// README step "kubectl scale deployment.apps/spark-worker --replicas=N", which returns only when the
// master reports exactly N ALIVE workers (kubectl returns before any worker has registered).
import { authConfAnnotation, withAuthConfDigest } from './lib/cluster-secret.ts'
import { parseConfig } from './lib/config.ts'
import { decodeShape, describeChanges, dockerLayout, encodeShape, listContainers, reconcileWorkers, shapeLabel, stopPlan, workerPlans } from './lib/docker.ts'
import { StepError } from './lib/errors.ts'
import { fieldManager, isNotFound } from './lib/kube.ts'
import { runIfMain } from './lib/main.ts'
import type { StepOutcome } from './lib/outcome.ts'
import { envValue, podTemplate, renderCluster } from './lib/manifests.ts'
import { resolvePlatform } from './lib/platform.ts'
import type { ExpectedWorkers } from './lib/spark-ui.ts'
import { makeTarget, type Target } from './lib/target.ts'
import { checkRoom } from './check-room.ts'
import { verifyUi } from './verify-ui.ts'
import { waitForRollout } from './wait-ready.ts'

export type ScaleOutcome = StepOutcome & { expected: ExpectedWorkers }

/** Sets the worker count; the cores and memory stay what the running cluster has. */
export async function setWorkerCount(target: Target, count: number): Promise<ScaleOutcome> {
  if (target.platform === 'docker') {
    const layout = dockerLayout(target.manifests)
    const containers = await listContainers(layout.ourLabels)
    // New workers copy the running ones (image, cores, memory, the conf they started on), which carry their shape as labels.
    const running = containers.find((c) => c.labels.role === 'worker')
    const shape = decodeShape(running?.labels[shapeLabel])
    if (!shape) throw new StepError('no Spark worker containers to copy here: run `npm run cluster:up` first')
    const rendered = renderCluster(target.manifests, { ...shape, workers: count, namespace: target.config.namespace })
    const digest = running?.labels[authConfAnnotation]
    if (digest) withAuthConfDigest(rendered.worker, digest)
    const changes = await reconcileWorkers(
      workerPlans(rendered.worker, layout, count, encodeShape(shape)),
      containers.filter((c) => c.labels.role === 'worker'),
      stopPlan(podTemplate(rendered.worker)),
    )
    const expected = { count, cores: shape.workerCores, memory: shape.workerMemory }
    const summary = describeChanges(changes)
    return summary ? { done: summary, expected } : { skipped: `already ${count} worker containers`, expected }
  }
  const kube = await target.kube()
  const name = target.manifests.worker.metadata!.name!
  const namespace = target.config.namespace
  const live = await kube.apps.readNamespacedDeployment({ name, namespace }).catch((error: unknown) => {
    throw isNotFound(error) ? new StepError(`no Deployment ${name} in namespace ${namespace}: run \`npm run cluster:up\` first`) : error
  })
  const container = live.spec!.template.spec!.containers[0]
  const expected = { count, cores: Number(envValue(container, 'SPARK_WORKER_CORES')), memory: envValue(container, 'SPARK_WORKER_MEMORY') ?? '' }
  if (live.spec?.replicas === count) return { skipped: `${name} already has ${count} replicas`, expected }
  // More workers must fit beside what runs: said now, with the numbers, not by a Pending pod later.
  if (count > (live.spec?.replicas ?? 0)) await checkRoom(target, { workers: count, workerCores: expected.cores, workerMemory: expected.memory })
  await kube.objects.patch(
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace }, spec: { replicas: count } },
    undefined,
    undefined,
    fieldManager,
    undefined,
    kube.k8s.PatchStrategy.MergePatch,
  )
  return { done: `${name} ${live.spec?.replicas} → ${count} replicas`, expected }
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('scale', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  const target = makeTarget(config, platform)
  const outcome = await setWorkerCount(target, config.workers)
  await waitForRollout(target)
  const { state } = await verifyUi(target, outcome.expected)
  console.log(`${'done' in outcome ? outcome.done : `skipped: ${outcome.skipped}`}; master reports ${state.aliveworkers} alive workers`)
})
