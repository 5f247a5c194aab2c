// A driver in the cluster, run to its end: a Kubernetes Job (its files from a ConfigMap) or a
// container on the cluster's Docker network (its files in a volume). Used by `npm run pi` and
// `npm run submit`; executors can reach a driver there, unlike one on the user's laptop.
import { randomBytes } from 'node:crypto'
import { PassThrough } from 'node:stream'
import type { V1Job, V1PodTemplateSpec } from '@kubernetes/client-node'
import type { ProcessPromise } from 'zx/core'
import { dockerLayout, labelArgs, planContainer } from './docker.ts'
import { errorMessage, StepError } from './errors.ts'
import { onInterrupt } from './interrupt.ts'
import { blockerWatch, type Kube } from './kube.ts'
import { filesVolume, mainContainer, ourLabels, podTemplate } from './manifests.ts'
import { watchChanges } from './kube-watch.ts'
import { pollUntil, sleep, TimeoutError } from './poll.ts'
import { run } from './proc.ts'
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
  return target.platform === 'docker' ? runOnDocker(target, named, options) : runOnKubernetes(target, named, options)
}

/**
 * The driver's pod template for Docker, which has no activeDeadlineSeconds: the command stops itself
 * at the Job's deadline (coreutils `timeout`), so a driver never runs on after the tool was killed.
 */
export function dockerDriverTemplate(job: V1Job): V1PodTemplateSpec {
  return withDeadlineCommand(podTemplate(job), job.spec?.activeDeadlineSeconds)
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

async function runOnDocker(target: Target, job: V1Job, options: DriverOptions): Promise<DriverRun> {
  const layout = dockerLayout(target.manifests)
  const name = job.metadata!.name!
  const image = mainContainer(job).image!
  // Attached, as the baseline's `docker run --rm`: its output streams back and its exit code is the
  // driver's, with no separate wait, log read or removal after it ends.
  const plan = planContainer(dockerDriverTemplate(job), { name, network: layout.network, restart: false, attached: true })
  const removeDriver = async () => {
    // The container filling the volume first, or the volume is still in use.
    await run({ nothrow: true })`docker rm --force ${name} ${`${name}-files`}`
    if (options.files) await run({ nothrow: true })`docker volume rm ${name}`
  }
  const forget = onInterrupt(removeDriver)
  let ended = false
  try {
    if (options.files) await fillVolume(name, image, options.files, { ...ourLabels(target.manifests), role: 'driver' })
    options.onProgress?.(`driver container ${name} starting`)
    const driver = run({ nothrow: true, timeout: target.config.timeoutSeconds * 1000 })`docker run ${plan.runArgs}`
    if (options.onOutput) streamOutput(driver, options.onOutput)
    const result = await driver
    const log = `${result.stdout}\n${result.stderr}`
    // docker run's own failures (no such image, a bad flag) are 125; the container did not run.
    if (result.exitCode === 125) throw new StepError(`could not start driver container ${name}`, result.stderr.trim())
    ended = result.exitCode !== null
    // 124 is what `timeout` returns when the deadline (the Job's activeDeadlineSeconds) stopped it;
    // no exit code: the backstop timeout above stopped docker run itself.
    const exitCode = result.exitCode ?? 124
    if (exitCode === 124) return { exitCode, log: `${log}\n(stopped at the --timeout of ${target.config.timeoutSeconds} s)`, driver: name }
    return { exitCode, log, driver: name }
  } finally {
    forget()
    // An attached run that ended took its container with it (--rm); only a volume of files is left.
    if (ended) {
      if (options.files) await run({ nothrow: true })`docker volume rm ${name}`
    } else await removeDriver()
  }
}

/** A labelled volume holding the files, each written through stdin by a throwaway container. */
async function fillVolume(name: string, image: string, files: Map<string, Buffer>, labels: Record<string, string>): Promise<void> {
  await run`docker volume create ${labelArgs(labels)} ${name}`
  for (const [file, content] of files) {
    // Written by root (a new volume is root's), readable by everyone, as a ConfigMap's 0444 files are.
    await run({ input: content })`docker run --rm --interactive --name ${`${name}-files`} --network none --user 0:0 --volume ${`${name}:/files`} --entrypoint sh ${image} -c ${'cat > "/files/$1" && chmod 0444 "/files/$1"'} sh ${file}`
  }
}

function streamOutput(child: ProcessPromise, onOutput: NonNullable<DriverOptions['onOutput']>): void {
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => onOutput(chunk, 'stdout'))
  child.stderr.on('data', (chunk: string) => onOutput(chunk, 'stderr'))
}

async function runOnKubernetes(target: Target, job: V1Job, options: DriverOptions): Promise<DriverRun> {
  const kube = await target.kube()
  const namespace = target.config.namespace
  const name = job.metadata!.name!
  const selector = `job-name=${name}`
  const containerName = mainContainer(job).name
  // Finished Jobs would pile up; Background lets the garbage collector take the pod too.
  const cleanUp = async () => {
    await kube.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' }).catch(() => undefined)
    if (options.files) await kube.core.deleteNamespacedConfigMap({ name, namespace }).catch(() => undefined)
  }
  const forget = onInterrupt(cleanUp)
  try {
    if (options.files) {
      const binaryData = Object.fromEntries([...options.files].map(([file, content]) => [file, content.toString('base64')]))
      await kube.core.createNamespacedConfigMap({ namespace, body: { metadata: { name, namespace, labels: { ...ourLabels(target.manifests), role: 'driver' } }, binaryData } })
    }
    const created = await kube.batch.createNamespacedJob({ namespace, body: job })
    // Owned by the Job, so the garbage collector takes the files too if this process dies first.
    if (options.files) {
      const files = await kube.core.readNamespacedConfigMap({ name, namespace })
      files.metadata!.ownerReferences = [{ apiVersion: 'batch/v1', kind: 'Job', name, uid: created.metadata!.uid!, blockOwnerDeletion: false }]
      await kube.core.replaceNamespacedConfigMap({ name, namespace, body: files })
    }
    const blockerOf = blockerWatch()
    let following: Promise<unknown> | undefined
    // Re-checked the moment the Job or its pod changes, as `kubectl wait` sees it.
    const changes = watchChanges(kube, namespace, [
      { group: 'apis/batch/v1', resource: 'jobs', fieldSelector: `metadata.name=${name}` },
      { group: 'api/v1', resource: 'pods', labelSelector: selector },
    ])
    const outcome = await pollUntil<'succeeded' | 'failed'>(
      `job ${name}`,
      target.config.timeoutSeconds * 1000,
      async () => {
        const current = await kube.batch.readNamespacedJob({ name, namespace })
        if ((current.status?.succeeded ?? 0) > 0) return { done: 'succeeded' }
        if ((current.status?.failed ?? 0) > 0) return { done: 'failed' }
        const { items } = await kube.core.listNamespacedPod({ namespace, labelSelector: selector })
        const blocker = items.map(blockerOf).find(Boolean)
        if (blocker) throw new StepError(`the driver cannot run: ${blocker}`)
        const pod = items[0]
        if (options.onOutput && !following && pod && pod.status?.phase !== 'Pending') following = followPodLog(kube, namespace, pod.metadata!.name!, containerName, options.onOutput)
        const waiting = items.flatMap((p) => p.status?.containerStatuses ?? []).map((s) => s.state?.waiting?.reason).find(Boolean)
        return { waiting: `driver ${pod?.status?.phase ?? 'not scheduled yet'}${waiting ? ` (${waiting})` : ''}` }
      },
      options.onProgress,
      1_000,
      changes.pause,
    )
      .finally(() => changes.close())
      .catch((error: unknown) => {
        // The timeout: the driver log so far is worth showing. Anything else (a driver that cannot
        // run, an API error) says why in its own words.
        if (error instanceof TimeoutError) return error
        throw error
      })
    const { items } = await kube.core.listNamespacedPod({ namespace, labelSelector: selector })
    const pod = items[0]
    // A driver that finished between two polls was never followed: its whole log is shown once.
    if (options.onOutput && !following && pod) following = followPodLog(kube, namespace, pod.metadata!.name!, containerName, options.onOutput)
    // The stream ends with the container; a broken one must not hold the cleanup below forever.
    await Promise.race([following, sleep(10_000)])
    const log = pod ? String(await kube.core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace, container: containerName }).catch((e: unknown) => `(no log: ${errorMessage(e)})`)) : '(no driver pod was created)'
    if (outcome instanceof Error) return { exitCode: 124, log: `${log}\n${outcome.message}`, driver: name }
    const terminated = pod?.status?.containerStatuses?.find((s) => s.name === containerName)?.state?.terminated
    return { exitCode: terminated?.exitCode ?? (outcome === 'succeeded' ? 0 : 1), log, driver: name }
  } finally {
    forget()
    await cleanUp()
  }
}

/** The pod's log, followed until the container ends (the API server closes the stream then). */
async function followPodLog(kube: Kube, namespace: string, pod: string, container: string, onOutput: NonNullable<DriverOptions['onOutput']>): Promise<void> {
  const sink = new PassThrough()
  // Decoded as a stream, so a character split between two chunks stays whole.
  sink.setEncoding('utf8')
  sink.on('data', (chunk: string) => onOutput(chunk, 'stdout'))
  const ended = new Promise<void>((resolve) => {
    sink.once('end', () => resolve())
    sink.once('error', () => resolve())
  })
  try {
    await new kube.k8s.Log(kube.config).log(namespace, pod, container, sink, { follow: true })
  } catch (error) {
    onOutput(`(could not follow the driver's log: ${errorMessage(error)})\n`, 'stderr')
    return
  }
  await ended
}
