import { envValue } from '../manifests.ts'
import type { RoomShape, ScaleOutcome } from '../runtime.ts'
import type { Target } from '../target.ts'
import { fieldManager } from './kube.ts'
import { readDeployment } from './rollout.ts'

/** The worker Deployment's replicas, merge-patched as `kubectl scale` does; its pods keep their cores and memory. */
export async function scaleKubeWorkers(target: Target, count: number, checkRoom: (shape: RoomShape) => Promise<unknown>): Promise<ScaleOutcome> {
  const kube = await target.kube()
  const name = target.manifests.worker.metadata!.name!
  const namespace = target.config.namespace
  const live = await readDeployment(kube, name, namespace)
  const container = live.spec!.template.spec!.containers[0]
  const expected = { count, cores: Number(envValue(container, 'SPARK_WORKER_CORES')), memory: envValue(container, 'SPARK_WORKER_MEMORY') ?? '' }
  if (live.spec?.replicas === count) return { skipped: `${name} already has ${count} replicas`, expected }
  // More workers must fit beside what runs: said now, with the numbers, not by a Pending pod later.
  if (count > (live.spec?.replicas ?? 0)) await checkRoom({ workers: count, workerCores: expected.cores, workerMemory: expected.memory })
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
