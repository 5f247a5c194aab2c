import type * as K8s from '@kubernetes/client-node'

/** Our name in managedFields: server-side apply records which fields this tool owns. */
export const fieldManager = 'spark-standalone-k8s'

export interface Kube {
  k8s: typeof K8s
  context: string
  config: K8s.KubeConfig
  objects: K8s.KubernetesObjectApi
  core: K8s.CoreV1Api
  apps: K8s.AppsV1Api
  batch: K8s.BatchV1Api
}

/**
 * Connects through one pinned context (never whatever current-context happens to be).
 * client-node costs ~1.5 s to import under tsx, so it is loaded only when a command talks to a cluster.
 */
export async function connectKube(context: string | undefined, kubeconfigFile?: string): Promise<Kube> {
  const k8s = await import('@kubernetes/client-node')
  const config = new k8s.KubeConfig()
  if (kubeconfigFile) config.loadFromFile(kubeconfigFile)
  else config.loadFromDefault()
  const name = context ?? config.getCurrentContext()
  if (!config.getContextObject(name)) {
    const known = config.getContexts().map((c) => c.name).join(', ') || 'none'
    throw new Error(`kube context "${name}" is not in your kubeconfig (known: ${known})`)
  }
  config.setCurrentContext(name)
  return {
    k8s,
    context: name,
    config,
    objects: k8s.KubernetesObjectApi.makeApiClient(config),
    core: config.makeApiClient(k8s.CoreV1Api),
    apps: config.makeApiClient(k8s.AppsV1Api),
    batch: config.makeApiClient(k8s.BatchV1Api),
  }
}

export function isNotFound(error: unknown): boolean {
  return (error as { code?: number }).code === 404
}

/** What `kubectl get pods` shows of a pod's containers: ready count, restarts, and why any is waiting. */
export function podSummary(pod: K8s.V1Pod): { ready: number; containers: number; restarts: number; reasons: string[] } {
  const statuses = pod.status?.containerStatuses ?? []
  return {
    ready: statuses.filter((s) => s.ready).length,
    containers: statuses.length,
    restarts: statuses.reduce((sum, s) => sum + s.restartCount, 0),
    reasons: statuses.map((s) => s.state?.waiting?.reason ?? s.lastState?.terminated?.reason).filter((r): r is string => Boolean(r)),
  }
}

/** kubectl's rollout rule (kubectl/pkg/polymorphichelpers/rollout_status.go), as a reason or undefined when done. */
export function rolloutPending(deployment: K8s.V1Deployment): string | undefined {
  const name = deployment.metadata?.name
  const spec = deployment.spec
  const status = deployment.status ?? {}
  const wanted = spec?.replicas ?? 1
  if ((deployment.metadata?.generation ?? 0) > (status.observedGeneration ?? 0)) return `${name}: waiting for the controller to see the new spec`
  const progressing = status.conditions?.find((c) => c.type === 'Progressing')
  if (progressing?.reason === 'ProgressDeadlineExceeded') throw new Error(`${name} exceeded its progress deadline`)
  const updated = status.updatedReplicas ?? 0
  if (updated < wanted) return `${name}: ${updated} of ${wanted} new replicas updated`
  if ((status.replicas ?? 0) > updated) return `${name}: ${(status.replicas ?? 0) - updated} old replicas pending termination`
  if ((status.availableReplicas ?? 0) < updated) return `${name}: ${status.availableReplicas ?? 0} of ${updated} updated replicas available`
  return undefined
}
