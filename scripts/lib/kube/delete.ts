// `kubectl delete all -l app=spark` on the API: every kind we make, listed and deleted at once, then
// watched until it is gone.
import type { V1Deployment } from '@kubernetes/client-node'
import type { DeletableRole } from '../config.ts'
import { ClusterUnavailable } from '../errors.ts'
import { ourLabels, selectorOf } from '../manifests.ts'
import type { StepOutcome } from '../outcome.ts'
import { pollUntil } from '../poll.ts'
import { withDataKept, withNotebooksKept } from '../storage.ts'
import type { Target } from '../target.ts'
import { isForbidden, isNotFound } from './kube.ts'
import { watchChanges } from './watch.ts'

/**
 * Kinds `kubectl delete all` covers that our manifests and jobs create, the cluster's Secret, the
 * ConfigMaps of `npm run submit`, the master's recovery claim and the event-log claim, the workers'
 * disruption budget, the master's network policy, and the elastic workers' controller's rights
 * (manifests/elastic/; the PodMonitors below).
 */
/** Kinds the built-in `edit` role may not even list: a user bound to it made none (cluster:up with a range needs `admin`). */
const rbacKinds = [
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
]

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
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  ...rbacKinds,
]

export async function deleteOnKubernetes(target: Target, role: DeletableRole | undefined, onProgress?: (reason: string) => void): Promise<StepOutcome> {
  // The elastic workers' controller goes with the workers it scales: left behind, it would keep
  // scaling a Deployment that is gone and report on workers that are not there.
  const controller = target.manifests.autoscaler.deployment.metadata!.labels!.role!
  const roles = role === target.manifests.worker.metadata!.labels!.role ? [role, controller] : role ? [role] : []
  const selector = [selectorOf(ourLabels(target.manifests)), ...(roles.length > 0 ? [`role in (${roles.join(',')})`] : [])].join(',')
  const timeoutMs = target.config.timeoutSeconds * 1000
  const kube = await target.kube().catch((error: unknown) => {
    // A stopped minikube holds no running Spark: nothing to delete, and `minikube stop` is skipped too.
    if (error instanceof ClusterUnavailable && target.platform === 'minikube') return undefined
    throw error
  })
  if (!kube) return { skipped: `minikube profile ${target.config.profile} is not running: nothing to delete` }
  const namespace = target.config.namespace
  // One side only keeps the master's recovery claim, as `kubectl delete all` would: a new master takes
  // over from it. JupyterLab alone goes with its notebooks claim only when --delete-notebooks asks.
  const notebook = target.manifests.notebook.claim.metadata!
  const deletable = role && role !== notebook.labels!.role ? kinds.filter(({ kind }) => kind !== 'PersistentVolumeClaim') : kinds
  // And the PodMonitors (manifests/monitoring/), where the cluster serves their kind (cluster:up made
  // them only there) and the user may list them (else cluster:up could not have made them either).
  const [monitor] = target.manifests.podMonitors
  const monitors = { apiVersion: monitor.apiVersion!, kind: monitor.kind! }
  const noneToList = (error: unknown) => isNotFound(error) || isForbidden(error) || /Unrecognized API version and kind/.test(String(error))
  const deleteNotebooks = target.config.deleteNotebooks
  let keptNotebooks = false
  const listAll = () =>
    Promise.all(
      [...deletable, monitors].map(async ({ apiVersion, kind }) => {
        const listed = kube.objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, selector)
        const optional = kind === monitors.kind || rbacKinds.some((rbac) => rbac.kind === kind)
        const { items } = await (optional ? listed.catch((error: unknown) => (noneToList(error) ? { items: [] } : Promise.reject(error))) : listed)
        const isNotebooks = (item: (typeof items)[number]) => kind === 'PersistentVolumeClaim' && item.metadata?.name === notebook.name
        if (!deleteNotebooks && items.some(isNotebooks)) keptNotebooks = true
        return { apiVersion, kind, items: deleteNotebooks ? items : items.filter((item) => !isNotebooks(item)) }
      }),
    )
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
  const master = found.find(({ kind }) => kind === 'Deployment')?.items.find((item) => item.metadata?.labels?.role === 'master') as V1Deployment | undefined
  const outcome: StepOutcome = deleted.length > 0 ? { done: `deleted ${deleted.join(', ')} and their pods` } : { skipped: `nothing labelled ${selector} in namespace ${namespace}` }
  return withNotebooksKept(withDataKept(outcome, master?.spec?.template.metadata?.annotations), keptNotebooks ? `claim ${notebook.name}` : undefined)
}

