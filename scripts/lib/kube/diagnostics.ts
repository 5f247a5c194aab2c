import type { V1Pod } from '@kubernetes/client-node'
import { indent, logLines } from '../diagnostics.ts'
import { errorMessage } from '../errors.ts'
import { ourLabels, selectorOf } from '../manifests.ts'
import type { Target } from '../target.ts'
import { podSummary } from './kube.ts'

/** Our pods with their state, our recent warning events, and the last log lines of the likeliest culprits. */
export async function kubeDiagnostics(target: Target): Promise<string> {
  const kube = await target.kube()
  const namespace = target.config.namespace
  const { items: pods } = await kube.core.listNamespacedPod({ namespace, labelSelector: selectorOf(ourLabels(target.manifests)) })
  const sections = [
    `pods:\n${
      pods
        .map((pod) => {
          const { restarts, reasons } = podSummary(pod)
          return `  ${pod.metadata?.name}  ${pod.status?.phase}  restarts=${restarts} ${reasons.join(' ')}`
        })
        .join('\n') || '  (none)'
    }`,
  ]
  const { items: events } = await kube.core.listNamespacedEvent({ namespace })
  // Ours only (our pods, their ReplicaSets and Deployments all start with a Deployment's name), newest last.
  const prefixes = [target.manifests.master, target.manifests.worker, target.manifests.piJob].map((o) => o.metadata!.name ?? o.metadata!.generateName!)
  const when = (e: (typeof events)[number]) => new Date(e.lastTimestamp ?? e.eventTime ?? 0).getTime()
  const recent = events
    .filter((e) => e.type !== 'Normal' && prefixes.some((prefix) => e.involvedObject.name?.startsWith(prefix)))
    .sort((a, b) => when(a) - when(b))
    .slice(-10)
  sections.push(`recent warning events:\n${recent.map((e) => `  ${e.involvedObject.kind}/${e.involvedObject.name}: ${e.reason} ${e.message}`).join('\n') || '  (none)'}`)
  // Not-ready pods first: they are the likely culprits, but a ready pod can be why workers never register.
  const byReadiness = [...pods].sort((a, b) => Number(isReady(a)) - Number(isReady(b))).slice(0, 6)
  for (const pod of byReadiness) {
    const log = await kube.core
      .readNamespacedPodLog({ name: pod.metadata!.name!, namespace, tailLines: logLines })
      .catch((error: unknown) => `(no log: ${errorMessage(error)})`)
    sections.push(`last log lines of ${pod.metadata?.name}:\n${indent(String(log))}`)
  }
  return sections.join('\n')
}

function isReady(pod: V1Pod): boolean {
  const { ready, containers } = podSummary(pod)
  return containers > 0 && ready === containers
}
