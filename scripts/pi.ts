#!/usr/bin/env -S npx tsx
// README step "python test.py", moved into the cluster: a driver pod (a Kubernetes Job, or a container on
// the cluster's Docker network) runs spark-submit of docker/pi.py, so executors can reach their driver.
import type { V1Job, V1PodTemplateSpec } from '@kubernetes/client-node'
import { parseConfig } from './lib/config.ts'
import { clusterImage } from './lib/cluster-image.ts'
import { dockerLayout, planContainer } from './lib/docker.ts'
import { errorMessage, StepError } from './lib/errors.ts'
import { onInterrupt } from './lib/interrupt.ts'
import { blockerWatch } from './lib/kube.ts'
import { runIfMain } from './lib/main.ts'
import { mainContainer, podTemplate, renderPiJob } from './lib/manifests.ts'
import { resolvePlatform } from './lib/platform.ts'
import { pollUntil, TimeoutError } from './lib/poll.ts'
import { run } from './lib/proc.ts'
import { makeTarget, type Target } from './lib/target.ts'

export interface PiEstimate {
  pi: number
  partitions: number
  samples: number
}

export interface PiRun extends PiEstimate {
  seconds: number
  driver: string
}

const resultPrefix = 'PI_RESULT '

/** The `PI_RESULT {...}` line pi.py prints, or undefined when the driver never got that far. */
export function parsePiResult(log: string): PiEstimate | undefined {
  const line = log.split('\n').find((l) => l.startsWith(resultPrefix))
  try {
    return line ? (JSON.parse(line.slice(resultPrefix.length)) as PiEstimate) : undefined
  } catch {
    return undefined // a line cut off mid-write: treat as no result, so the driver log is shown
  }
}

const tail = (log: string, lines = 40) => log.trimEnd().split('\n').slice(-lines).join('\n')

export async function runPi(target: Target, partitions: number | undefined, onProgress?: (line: string) => void): Promise<PiRun> {
  const job = renderPiJob(target.manifests, { image: await clusterImage(target), namespace: target.config.namespace, partitions, timeoutSeconds: target.config.timeoutSeconds })
  const started = Date.now()
  const { exitCode, log, driver } = target.platform === 'docker' ? await runOnDocker(target, job, onProgress) : await runOnKubernetes(target, job, onProgress)
  const seconds = (Date.now() - started) / 1000
  const estimate = parsePiResult(log)
  if (exitCode !== 0 || !estimate) {
    throw new StepError(`Pi job ${driver} failed (exit code ${exitCode})${estimate ? '' : ', no PI_RESULT line'}`, `driver log (last lines):\n${tail(log)}`)
  }
  return { ...estimate, seconds, driver }
}

interface DriverRun {
  exitCode: number
  log: string
  driver: string
}

/**
 * The driver's pod template for Docker, which has no activeDeadlineSeconds: the command stops itself
 * at the Job's deadline (coreutils `timeout`), so a driver never runs on after the tool was killed.
 */
export function dockerDriverTemplate(job: V1Job): V1PodTemplateSpec {
  const template = structuredClone(podTemplate(job))
  const deadline = job.spec?.activeDeadlineSeconds
  const container = template.spec!.containers[0]
  if (deadline) container.args = ['timeout', '--kill-after=10', String(deadline), ...(container.args ?? [])]
  return template
}

async function runOnDocker(target: Target, job: V1Job, onProgress?: (line: string) => void): Promise<DriverRun> {
  const layout = dockerLayout(target.manifests)
  const name = `${job.metadata!.generateName}${Date.now().toString(36)}`
  const plan = planContainer(dockerDriverTemplate(job), { name, network: layout.network, restart: false })
  const removeDriver = () => run({ nothrow: true })`docker rm --force ${name}`
  const forget = onInterrupt(removeDriver)
  try {
    await run`docker run ${plan.runArgs}`
    onProgress?.(`driver container ${name} started`)
    const waited = await run({ nothrow: true, timeout: target.config.timeoutSeconds * 1000 })`docker wait ${name}`
    const logs = await run({ nothrow: true })`docker logs ${name}`
    const log = `${logs.stdout}\n${logs.stderr}`
    if (waited.exitCode !== 0) return { exitCode: 124, log: `${log}\n(timed out after ${target.config.timeoutSeconds} s)`, driver: name }
    return { exitCode: Number(waited.stdout.trim()), log, driver: name }
  } finally {
    forget()
    await removeDriver()
  }
}

async function runOnKubernetes(target: Target, job: V1Job, onProgress?: (line: string) => void): Promise<DriverRun> {
  const kube = await target.kube()
  const namespace = target.config.namespace
  // Named here rather than by the server, so Ctrl-C during the create still knows what to delete.
  const name = `${job.metadata!.generateName}${Date.now().toString(36)}`
  job.metadata = { ...job.metadata, name, generateName: undefined }
  const selector = `job-name=${name}`
  // Finished Jobs would pile up; Background lets the garbage collector take the pod too.
  const deleteJob = () => kube.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' }).catch(() => undefined)
  const forget = onInterrupt(deleteJob)
  try {
    await kube.batch.createNamespacedJob({ namespace, body: job })
    const blockerOf = blockerWatch()
    const outcome = await pollUntil<'succeeded' | 'failed'>(
      `job ${name}`,
      target.config.timeoutSeconds * 1000,
      async () => {
        const current = await kube.batch.readNamespacedJob({ name, namespace })
        if ((current.status?.succeeded ?? 0) > 0) return { done: 'succeeded' }
        if ((current.status?.failed ?? 0) > 0) return { done: 'failed' }
        const { items } = await kube.core.listNamespacedPod({ namespace, labelSelector: selector })
        const blocker = items.map(blockerOf).find(Boolean)
        if (blocker) throw new StepError(`the Pi driver cannot run: ${blocker}`)
        const waiting = items.flatMap((pod) => pod.status?.containerStatuses ?? []).map((s) => s.state?.waiting?.reason).find(Boolean)
        return { waiting: `driver ${items[0]?.status?.phase ?? 'not scheduled yet'}${waiting ? ` (${waiting})` : ''}` }
      },
      onProgress,
    ).catch((error: unknown) => {
      // The timeout: the driver log so far is worth showing. Anything else (a driver that cannot
      // run, an API error) says why in its own words.
      if (error instanceof TimeoutError) return error
      throw error
    })
    const { items } = await kube.core.listNamespacedPod({ namespace, labelSelector: selector })
    const podName = items[0]?.metadata?.name
    const containerName = mainContainer(job).name
    const log = podName ? String(await kube.core.readNamespacedPodLog({ name: podName, namespace, container: containerName }).catch((e: unknown) => `(no log: ${errorMessage(e)})`)) : '(no driver pod was created)'
    if (outcome instanceof Error) return { exitCode: 124, log: `${log}\n${outcome.message}`, driver: name }
    return { exitCode: outcome === 'succeeded' ? 0 : 1, log, driver: name }
  } finally {
    forget()
    await deleteJob()
  }
}

export function describePi(result: PiRun): string {
  return `Pi ≈ ${result.pi.toFixed(6)} (error ${Math.abs(result.pi - Math.PI).toExponential(1)}; ${result.partitions} partitions, ${result.samples.toLocaleString('en')} samples) in ${result.seconds.toFixed(1)} s`
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('pi', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  console.log(describePi(await runPi(makeTarget(config, platform), config.partitions, (line) => console.error(line))))
})
