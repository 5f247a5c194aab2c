import { request as httpRequest, type RequestOptions } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type * as K8s from '@kubernetes/client-node'
import type * as KubeClient from './client-node.ts'

/** Our name in managedFields: server-side apply records which fields this tool owns. */
export const fieldManager = 'spark-standalone-k8s'

export interface Kube {
  k8s: typeof KubeClient
  context: string
  config: K8s.KubeConfig
  objects: K8s.KubernetesObjectApi
  core: K8s.CoreV1Api
  apps: K8s.AppsV1Api
  batch: K8s.BatchV1Api
  authorization: K8s.AuthorizationV1Api
}

/**
 * Connects through one pinned context (never whatever current-context happens to be), every call
 * with a deadline (`requestDeadlineMs`, 60 s by default: deadline-config.ts).
 * client-node is the heaviest import by far, so it is loaded only when a command talks to a cluster.
 */
export async function connectKube(context: string | undefined, kubeconfigFile?: string, { requestDeadlineMs }: { requestDeadlineMs?: number } = {}): Promise<Kube> {
  const k8s = await import('./client-node.ts')
  const config = new k8s.DeadlineKubeConfig(requestDeadlineMs)
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
    authorization: config.makeApiClient(k8s.AuthorizationV1Api),
  }
}

/** The context's API server as a URL in one spelling (host in lower case, no default port, no trailing slash). */
export function apiServer(kube: Kube): string {
  const server = kube.config.getCurrentCluster()?.server
  if (!server) throw new Error(`kube context ${kube.context} names no cluster server`)
  const url = new URL(server)
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`
}

export function isNotFound(error: unknown): boolean {
  return (error as { code?: number }).code === 404
}

/** A cluster-scoped read a namespace-bound user may not make: such lookups are optional. */
export function isForbidden(error: unknown): boolean {
  return (error as { code?: number }).code === 403
}

/**
 * A GET on the API server with the context's own credentials, returning the body as text. For
 * paths the generated client mangles, like the Service proxy (it would escape the slashes).
 */
export async function kubeGet(kube: Kube, path: string, timeoutMs = 5_000): Promise<string> {
  const url = new URL(path, apiServer(kube))
  const options: RequestOptions & { headers: Record<string, string> } = { method: 'GET', headers: {}, timeout: timeoutMs }
  await kube.config.applyToHTTPSOptions(options)
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest
  return new Promise<string>((resolve, reject) => {
    const req = send(url, options, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        const code = response.statusCode ?? 0
        if (code >= 200 && code < 300) resolve(body)
        // The same shape as client-node's errors, so errorMessage() renders the server's message.
        else reject(Object.assign(new Error(`HTTP-Code: ${code}\nMessage: GET ${url.pathname}`), { code, body }))
      })
    })
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.host} within ${timeoutMs / 1000} s`)))
    req.on('error', reject)
    req.end()
  })
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

/** Waiting reasons that waiting longer does not cure. (ErrImagePull is left out: a retry may still succeed; its BackOff follows within seconds.) */
const stuckReasons = /^(ImagePullBackOff|ErrImageNeverPull|InvalidImageName|CreateContainerConfigError|CreateContainerError|CrashLoopBackOff)$/

/** How long a pod may stay Unschedulable before we believe it: a rolling update frees room within seconds. */
export const unschedulableGraceMs = 20_000

/**
 * Why waiting for this pod is pointless, in the scheduler's or kubelet's words, or undefined while
 * it may still come up: a container stuck in one of the reasons above, or Unschedulable for longer
 * than the grace period since `firstSeen` first saw it so. Counted on this machine's clock: the API
 * server's lastTransitionTime may be off by more than the grace.
 */
export function podBlocker(pod: K8s.V1Pod, firstSeen: Map<string, number>, now: number = Date.now()): string | undefined {
  const name = pod.metadata?.name
  if (pod.metadata?.deletionTimestamp) return undefined
  for (const status of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const waiting = status.state?.waiting
    if (waiting?.reason && stuckReasons.test(waiting.reason)) {
      const last = status.lastState?.terminated
      const exit = waiting.reason === 'CrashLoopBackOff' && last ? ` (last exit code ${last.exitCode}${last.reason ? `, ${last.reason}` : ''})` : ''
      return `pod ${name}: ${waiting.reason}${exit}${waiting.message ? `: ${waiting.message}` : ''}`
    }
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled')
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    const key = pod.metadata?.uid ?? name ?? ''
    if (!firstSeen.has(key)) firstSeen.set(key, now)
    if (now - firstSeen.get(key)! >= unschedulableGraceMs) return `pod ${name} cannot be scheduled: ${scheduled.message ?? 'Unschedulable'}`
  }
  return undefined
}

/** podBlocker for one wait: it remembers when each pod was first seen Unschedulable. */
export function blockerWatch(): (pod: K8s.V1Pod) => string | undefined {
  const firstSeen = new Map<string, number>()
  return (pod) => podBlocker(pod, firstSeen)
}

const revisionAnnotation = 'deployment.kubernetes.io/revision'

/**
 * The pods of a Deployment's newest ReplicaSet: the ones its rollout waits for. Pods of an older,
 * broken ReplicaSet are not news to a run that is replacing them.
 */
export async function newestPods(kube: Kube, deployment: K8s.V1Deployment): Promise<K8s.V1Pod[]> {
  const namespace = deployment.metadata!.namespace!
  const labelSelector = Object.entries(deployment.spec!.selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`).join(',')
  const [{ items: sets }, { items: pods }] = await Promise.all([kube.apps.listNamespacedReplicaSet({ namespace, labelSelector }), kube.core.listNamespacedPod({ namespace, labelSelector })])
  const revision = deployment.metadata?.annotations?.[revisionAnnotation]
  const newest = sets.find((set) => set.metadata?.annotations?.[revisionAnnotation] === revision && set.metadata?.ownerReferences?.some((owner) => owner.uid === deployment.metadata?.uid))
  const hash = newest?.metadata?.labels?.['pod-template-hash']
  return hash ? pods.filter((pod) => pod.metadata?.labels?.['pod-template-hash'] === hash) : []
}
