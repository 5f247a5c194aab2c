#!/usr/bin/env -S npx tsx
// README step "kubectl delete all -l app=spark" (or role=master|worker), then wait until it is really gone.
import { parseConfig, type DeletableRole } from './lib/config.ts'
import { labelFilters, listContainers } from './lib/docker.ts'
import { ClusterUnavailable } from './lib/errors.ts'
import { isNotFound } from './lib/kube.ts'
import { watchChanges } from './lib/kube-watch.ts'
import { runIfMain } from './lib/main.ts'
import { describeOutcome, type StepOutcome } from './lib/outcome.ts'
import { ourLabels, selectorOf } from './lib/manifests.ts'
import { resolvePlatform } from './lib/platform.ts'
import { pollUntil } from './lib/poll.ts'
import { run } from './lib/proc.ts'
import { makeTarget, type Target } from './lib/target.ts'

/** Kinds `kubectl delete all` covers that our manifests and jobs create, the cluster's Secret, the ConfigMaps of `npm run submit`, the master's recovery claim and the workers' disruption budget. */
const kinds = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'apps/v1', kind: 'ReplicaSet' },
  { apiVersion: 'batch/v1', kind: 'Job' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'v1', kind: 'Pod' },
  { apiVersion: 'v1', kind: 'Secret' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
]

export async function deleteCluster(target: Target, role?: DeletableRole, onProgress?: (reason: string) => void): Promise<StepOutcome> {
  const labels = { ...ourLabels(target.manifests), ...(role ? { role } : {}) }
  const selector = selectorOf(labels)
  const timeoutMs = target.config.timeoutSeconds * 1000
  if (target.platform === 'docker') return deleteOnDocker(target, labels, timeoutMs)
  const kube = await target.kube().catch((error: unknown) => {
    // A stopped minikube holds no running Spark: nothing to delete, and `minikube stop` is skipped too.
    if (error instanceof ClusterUnavailable && target.platform === 'minikube') return undefined
    throw error
  })
  if (!kube) return { skipped: `minikube profile ${target.config.profile} is not running: nothing to delete` }
  const namespace = target.config.namespace
  // One side only keeps the master's recovery claim, as `kubectl delete all` would: a new master takes over from it.
  const deletable = role ? kinds.filter(({ kind }) => kind !== 'PersistentVolumeClaim') : kinds
  const listAll = () => Promise.all(deletable.map(async ({ apiVersion, kind }) => ({ apiVersion, kind, items: (await kube.objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, selector)).items })))
  // Every kind listed at once and its objects deleted at once, as one `kubectl delete` call does;
  // pods last, so no ReplicaSet is left to replace them.
  const found = await listAll()
  const remove = (wave: typeof found) =>
    Promise.all(
      wave.flatMap(({ apiVersion, kind, items }) =>
        items.map((item) =>
          kube.objects
            .delete({ apiVersion, kind, metadata: { name: item.metadata!.name!, namespace } }, undefined, undefined, undefined, undefined, 'Background')
            .catch((error: unknown) => {
              if (!isNotFound(error)) throw error // already gone (its owner went first) is fine; a 403 is not
            }),
        ),
      ),
    )
  await remove(found.filter(({ kind }) => kind !== 'Pod'))
  await remove(found.filter(({ kind }) => kind === 'Pod'))
  const deleted = found.flatMap(({ kind, items }) => (kind === 'Pod' || kind === 'ReplicaSet' ? [] : items.map((item) => `${kind.toLowerCase()}/${item.metadata!.name}`)))
  // What takes time to go: pods (their grace period) and the claim (held until its pod is gone).
  const changes = watchChanges(kube, namespace, [
    { group: 'api/v1', resource: 'pods', labelSelector: selector },
    { group: 'api/v1', resource: 'persistentvolumeclaims', labelSelector: selector },
  ])
  await pollUntil<true>(`everything labelled ${selector} to go`, timeoutMs, async () => {
    const left = (await listAll()).flatMap(({ kind, items }) => items.map((item) => `${kind.toLowerCase()}/${item.metadata!.name}`))
    return left.length === 0 ? { done: true } : { waiting: `${left.length} left: ${left.slice(0, 4).join(', ')}` }
  }, onProgress, 1_000, changes.pause).finally(() => changes.close())
  return deleted.length > 0 ? { done: `deleted ${deleted.join(', ')} and their pods` } : { skipped: `nothing labelled ${selector} in namespace ${namespace}` }
}

/** Containers, and (when deleting everything) the network and any volumes, found by label. */
async function deleteOnDocker(target: Target, labels: Record<string, string>, timeoutMs: number): Promise<StepOutcome> {
  const filters = labelFilters(ourLabels(target.manifests))
  // Everything is listed at once; the network and volumes go once no container uses them.
  const listed = async (kind: 'network' | 'volume') => (labels.role ? [] : (await run`docker ${kind} ls ${filters} --format ${'{{.Name}}'}`).stdout.split('\n').filter(Boolean))
  const [containers, networks, volumes] = await Promise.all([listContainers(labels), listed('network'), listed('volume')])
  const deleted = containers.map((c) => c.name)
  if (deleted.length > 0) await run({ timeout: timeoutMs })`docker rm --force --volumes ${deleted}`
  await Promise.all([
    networks.length > 0 && run`docker network rm ${networks}`,
    volumes.length > 0 && run`docker volume rm ${volumes}`,
  ])
  deleted.push(...networks.map((name) => `network ${name}`), ...volumes.map((name) => `volume ${name}`))
  return deleted.length > 0 ? { done: `deleted ${deleted.join(', ')}` } : { skipped: `nothing labelled ${selectorOf(labels)} on this Docker engine` }
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('down', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  const outcome = await deleteCluster(makeTarget(config, platform), config.role, (reason) => console.error(reason))
  console.log(describeOutcome(outcome))
})
