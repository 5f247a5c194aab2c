// A driver in the cluster, run to its end: a Kubernetes Job (its files from a ConfigMap) or a
// container on the cluster's Docker network (its files in a volume). Used by `npm run pi` and
// `npm run submit`; executors can reach a driver there, unlike one on the user's laptop.
import { randomBytes } from 'node:crypto'
import type { V1Job, V1PodTemplateSpec } from '@kubernetes/client-node'
import { filesVolume, podTemplate } from './manifests.ts'
import type { Target } from './target.ts'

export interface DriverRun {
  exitCode: number
  log: string
  driver: string
}

export interface DriverOptions {
  onProgress?: (line: string) => void
  /** Streams the driver's output live (stdout, stderr) as it comes; without it, the log is read at the end. */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void
  /** Files for the driver (name → content), mounted read-only where the Job's `files` volume says. */
  files?: Map<string, Buffer>
}

/**
 * A name for a run's objects, made here rather than by the server, so Ctrl-C during the create still
 * knows what to delete; the random part keeps two runs in the same millisecond apart.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${randomBytes(2).toString('hex')}`
}

/** Runs the Job's driver to its end where the target says, and removes everything it made (also on Ctrl-C). */
export async function runDriver(target: Target, job: V1Job, options: DriverOptions = {}): Promise<DriverRun> {
  const name = uniqueName(job.metadata!.generateName!)
  const named = { ...job, metadata: { ...job.metadata, name, generateName: undefined } }
  const volume = podTemplate(named).spec?.volumes?.find((v) => v.name === filesVolume)
  if (volume?.configMap) volume.configMap.name = name
  return target.runtime.runDriver(named, options)
}

/**
 * A copy of the template whose command stops at `deadline` seconds. `foreground` for a REPL on a
 * terminal: the command stays in the terminal's process group, so it may read from it.
 */
export function withDeadlineCommand(template: V1PodTemplateSpec, deadline: number | undefined, foreground = false): V1PodTemplateSpec {
  const copy = structuredClone(template)
  const container = copy.spec!.containers[0]
  if (deadline) container.args = ['timeout', ...(foreground ? ['--foreground'] : []), '--kill-after=10', String(deadline), ...(container.args ?? [])]
  return copy
}
