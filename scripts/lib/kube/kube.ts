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

/** A pod that will not start by waiting, in one line, and what to look at. */
export interface Blocked {
  message: string
  hint: string
}

/**
 * How long the kubelet must keep failing to mount a pod's volume before we believe it: it retries,
 * and a Secret or ConfigMap can be missing from its cache for a pod's first seconds ("not registered").
 */
export const failedMountGraceMs = 20_000

/** Events that come only after every volume is mounted: the kubelet mounts them all before it pulls, creates or starts a container. */
const afterMount = new Set(['Pulling', 'Pulled', 'Created', 'Started'])

/** The kubelet's summary of a mount that timed out; the event it follows names the volume and the cause. */
const mountSummary = /^Unable to attach or mount volumes/

/**
 * Why this pod waits in vain for its volumes, or undefined while it may still come up: the kubelet
 * reported FailedMount more than once, this wait first saw it at least the grace ago (this machine's
 * clock, as for Unschedulable), and no container has been pulled or started since the mount. The
 * message is the kubelet's newest specific one (a folder of the node that is not there, a Secret,
 * ConfigMap or claim that is missing), in one line.
 */
export function mountBlocker(pod: K8s.V1Pod, events: K8s.CoreV1Event[], firstSeen: Map<string, number>, now: number = Date.now()): Blocked | undefined {
  const name = pod.metadata?.name
  const key = pod.metadata?.uid ?? name ?? ''
  if (events.some((event) => afterMount.has(event.reason ?? ''))) return undefined
  const failures = events.filter((event) => event.reason === 'FailedMount')
  if (failures.length === 0) return undefined
  if (!firstSeen.has(key)) firstSeen.set(key, now)
  const repeats = failures.reduce((sum, event) => sum + (event.count ?? event.series?.count ?? 1), 0)
  if (repeats < 2 || now - firstSeen.get(key)! < failedMountGraceMs) return undefined
  const when = (event: K8s.CoreV1Event) => new Date(event.lastTimestamp ?? event.eventTime ?? 0).getTime()
  const newestFirst = [...failures].sort((a, b) => when(b) - when(a))
  const event = newestFirst.find((e) => !mountSummary.test(e.message ?? '')) ?? newestFirst[0]
  const namespace = pod.metadata?.namespace
  return {
    message: `pod ${name} cannot mount its volumes: ${(event.message ?? 'FailedMount').replace(/\s+/g, ' ').trim()}`,
    hint: `  - something the pod mounts is not there (a folder of the node, a Secret, ConfigMap or claim): create it, or fix what names it\n  - \`kubectl describe pod ${name}${namespace ? ` -n ${namespace}` : ''}\` shows the kubelet's events`,
  }
}

/**
 * mountBlocker for one wait, reading the events of each pod that is scheduled but not started (the
 * only pods a mount can hold back); it remembers when each pod was first seen failing to mount.
 */
export function mountWatch(kube: Kube): (pods: K8s.V1Pod[]) => Promise<Blocked | undefined> {
  const firstSeen = new Map<string, number>()
  return async (pods) => {
    for (const pod of pods) {
      const scheduled = pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'True')
      if (pod.metadata?.deletionTimestamp || pod.status?.phase !== 'Pending' || !scheduled) continue
      // Optional, as the room check is: credentials that may not read events wait as before.
      const events = await kube.core.listNamespacedEvent({ namespace: pod.metadata!.namespace!, fieldSelector: `involvedObject.uid=${pod.metadata!.uid}` }).then(
        ({ items }) => items,
        (error: unknown) => (isForbidden(error) ? [] : Promise.reject(error)),
      )
      const blocked = mountBlocker(pod, events, firstSeen)
      if (blocked) return blocked
    }
    return undefined
  }
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
