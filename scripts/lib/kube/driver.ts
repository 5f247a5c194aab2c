// A driver as a Kubernetes Job, its files in a ConfigMap the Job owns; followed by a watch, as `kubectl wait` would.
import { PassThrough } from 'node:stream'
import type { V1Job } from '@kubernetes/client-node'
import type { DriverOptions, DriverRun } from '../driver.ts'
import { errorMessage, StepError } from '../errors.ts'
import { onInterrupt } from '../interrupt.ts'
import { mainContainer, ourLabels } from '../manifests.ts'
import { pollUntil, sleep, TimeoutError } from '../poll.ts'
import type { Target } from '../target.ts'
import { blockerWatch, type Kube } from './kube.ts'
import { watchChanges } from './watch.ts'

/** What the API server accepts in one ConfigMap: keys and values together, in bytes. */
export const configMapLimit = 1024 * 1024

export async function runKubeDriver(target: Target, job: V1Job, options: DriverOptions): Promise<DriverRun> {
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
