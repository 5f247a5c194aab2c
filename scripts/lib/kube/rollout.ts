import type { V1Deployment } from '@kubernetes/client-node'
import { StepError } from '../errors.ts'
import { pollUntil } from '../poll.ts'
import { blockerWatch, isNotFound, mountWatch, newestPods, rolloutPending, type Kube } from './kube.ts'
import { watchChanges } from './watch.ts'

/**
 * The named Deployments rolled out by kubectl's rule, or the reason a pod cannot get there by
 * waiting (podBlocker, or a volume the kubelet keeps failing to mount: mountBlocker). Re-checked whenever a Deployment or pod labelled `selector` changes (a watch, as kubectl's).
 * `proven`: what the rollout is awaited for, shown another way (the master reports the workers); the
 * wait ends with its reason then, not a readiness probe later.
 */
export async function waitForDeployments(kube: Kube, namespace: string, names: string[], selector: string, timeoutMs: number, onProgress?: (reason: string) => void, proven?: Promise<string>): Promise<string> {
  const blockerOf = blockerWatch()
  const mountBlocked = mountWatch(kube)
  const changes = watchChanges(kube, namespace, [
    { group: 'apis/apps/v1', resource: 'deployments', labelSelector: selector },
    { group: 'api/v1', resource: 'pods', labelSelector: selector },
  ])
  let provenBy: string | undefined
  // A failed proof proves nothing: it never settles then, so the pauses keep their pace.
  const proof = proven?.then((reason) => void (provenBy = reason), () => new Promise<void>(() => {}))
  const pause = (ms: number) => Promise.race([changes.pause(ms), ...(proof ? [proof] : [])])
  return pollUntil<string>('rollout', timeoutMs, async () => {
    if (provenBy) return { done: provenBy }
    const deployments = await Promise.all(names.map((name) => kube.apps.readNamespacedDeployment({ name, namespace })))
    const pending = deployments.map(rolloutPending).filter(Boolean)
    if (pending.length === 0) return { done: deployments.map((d) => `${d.metadata?.name} ${d.status?.availableReplicas}/${d.spec?.replicas}`).join(', ') }
    // Pods the controller could not even create (admission refused them: PodSecurity, quota).
    const refused = deployments.map((d) => d.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True')).find(Boolean)
    if (refused) throw new StepError(`the pods cannot be created: ${refused.message}`)
    // Until the controller has seen the new spec, the newest ReplicaSet is still the old one.
    const observed = deployments.filter((d) => (d.metadata?.generation ?? 0) <= (d.status?.observedGeneration ?? 0))
    const pods = (await Promise.all(observed.map((d) => newestPods(kube, d)))).flat()
    const blocker = pods.map(blockerOf).find(Boolean)
    if (blocker) throw new StepError(blocker)
    const unmountable = await mountBlocked(pods)
    if (unmountable) throw new StepError(unmountable.message, unmountable.hint)
    return { waiting: pending.join('; ') }
  }, onProgress, 1_000, pause).finally(() => changes.close())
}

/** One of our Deployments as it runs, or the one line saying the cluster is not up. */
export async function readDeployment(kube: Kube, name: string, namespace: string): Promise<V1Deployment> {
  return kube.apps.readNamespacedDeployment({ name, namespace }).catch((error: unknown) => {
    throw isNotFound(error) ? new StepError(`no Deployment ${name} in namespace ${namespace}: run \`npm run cluster:up\` first`) : error
  })
}
