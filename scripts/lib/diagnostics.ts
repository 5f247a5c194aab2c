import type { V1Pod } from '@kubernetes/client-node'
import { listContainers } from './docker.ts'
import { errorMessage } from './errors.ts'
import { podSummary } from './kube.ts'
import { ourLabels, selectorOf } from './manifests.ts'
import { run } from './proc.ts'
import type { Target } from './target.ts'

const logLines = 20

/** What a person would look at when something failed: pod/container status, recent events, last log lines. */
export async function collectDiagnostics(target: Target): Promise<string> {
  try {
    return target.platform === 'docker' ? await dockerDiagnostics(target) : await kubeDiagnostics(target)
  } catch (error) {
    return `(could not collect diagnostics: ${errorMessage(error)})`
  }
}

async function dockerDiagnostics(target: Target): Promise<string> {
  const containers = await listContainers(ourLabels(target.manifests))
  const sections = [`containers:\n${containers.map((c) => `  ${c.name}  ${c.state}  ${c.status}`).join('\n') || '  (none)'}`]
  for (const container of containers) {
    const logs = await run({ nothrow: true })`docker logs --tail ${logLines} ${container.name}`
    sections.push(`last log lines of ${container.name}:\n${indent(`${logs.stdout}${logs.stderr}`)}`)
  }
  return sections.join('\n')
}

async function kubeDiagnostics(target: Target): Promise<string> {
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

function indent(text: string): string {
  return text.trimEnd().split('\n').map((line) => `  ${line}`).join('\n')
}

function isReady(pod: V1Pod): boolean {
  const { ready, containers } = podSummary(pod)
  return containers > 0 && ready === containers
}
