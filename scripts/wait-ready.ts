#!/usr/bin/env -S npx tsx
// README step "kubectl get all": instead of eyeballing, wait until the rollout is complete by kubectl's rule.
import { parseConfig } from './lib/config.ts'
import { dockerLayout, listContainers } from './lib/docker.ts'
import { StepError } from './lib/errors.ts'
import { blockerWatch, newestPods, rolloutPending, type Kube } from './lib/kube.ts'
import { runIfMain } from './lib/main.ts'
import { resolvePlatform } from './lib/platform.ts'
import { watchChanges } from './lib/kube-watch.ts'
import { ourLabels, selectorOf } from './lib/manifests.ts'
import { pollUntil } from './lib/poll.ts'
import { makeTarget, type Target } from './lib/target.ts'

/**
 * Kubernetes: both Deployments rolled out by kubectl's rule, failing fast when a pod cannot get
 * there by waiting (Unschedulable, image pull back-off, crash loop) with the scheduler's or the
 * kubelet's own message. Docker: master and every worker container running (not restarting). */
export async function waitForRollout(target: Target, onProgress?: (reason: string) => void, proven?: Promise<string>): Promise<string> {
  const timeoutMs = target.config.timeoutSeconds * 1000
  if (target.platform === 'docker') {
    const layout = dockerLayout(target.manifests)
    return pollUntil<string>('containers running', timeoutMs, async () => {
      const containers = await listContainers(layout.ourLabels)
      const roles = containers.filter((c) => c.labels.role === 'master' || c.labels.role === 'worker')
      const notRunning = roles.filter((c) => c.state !== 'running')
      if (!roles.some((c) => c.labels.role === 'master')) return { waiting: 'no master container' }
      if (notRunning.length > 0) return { waiting: notRunning.map((c) => `${c.name} ${c.status}`).join(', ') }
      return { done: `${roles.length} containers running` }
    }, onProgress)
  }
  const names = [target.manifests.master, target.manifests.worker].map((d) => d.metadata!.name!)
  return waitForDeployments(await target.kube(), target.config.namespace, names, selectorOf(ourLabels(target.manifests)), timeoutMs, onProgress, proven)
}

/**
 * The named Deployments rolled out by kubectl's rule, or the reason a pod cannot get there by
 * waiting. Re-checked whenever a Deployment or pod labelled `selector` changes (a watch, as kubectl's).
 * `proven`: what the rollout is awaited for, shown another way (the master reports the workers); the
 * wait ends with its reason then, not a readiness probe later.
 */
export async function waitForDeployments(kube: Kube, namespace: string, names: string[], selector: string, timeoutMs: number, onProgress?: (reason: string) => void, proven?: Promise<string>): Promise<string> {
  const blockerOf = blockerWatch()
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
    return { waiting: pending.join('; ') }
  }, onProgress, 1_000, pause).finally(() => changes.close())
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('status', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  console.log(await waitForRollout(makeTarget(config, platform), (reason) => console.error(reason)))
})
