// A driver as a container on the cluster's Docker network, attached; its files in a labelled volume.
import type { V1Job, V1PodTemplateSpec } from '@kubernetes/client-node'
import type { ProcessPromise } from 'zx/core'
import { withDeadlineCommand, type DriverOptions, type DriverRun } from '../driver.ts'
import { StepError } from '../errors.ts'
import { onInterrupt } from '../interrupt.ts'
import { mainContainer, ourLabels, podTemplate } from '../manifests.ts'
import { run } from '../proc.ts'
import type { Target } from '../target.ts'
import { dockerLayout, labelArgs, planContainer, runnable } from './containers.ts'

/** On Docker the files go through this process's memory into a volume: a ceiling well below node's own. */
export const dockerFilesLimit = 1024 * 1024 * 1024

/**
 * The driver's pod template for Docker, which has no activeDeadlineSeconds: the command stops itself
 * at the Job's deadline (coreutils `timeout`), so a driver never runs on after the tool was killed.
 */
export function dockerDriverTemplate(job: V1Job): V1PodTemplateSpec {
  return withDeadlineCommand(podTemplate(job), job.spec?.activeDeadlineSeconds)
}

export async function runDockerDriver(target: Target, job: V1Job, options: DriverOptions): Promise<DriverRun> {
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
    await run({ input: content })`docker run --rm --interactive --name ${`${name}-files`} --network none --user 0:0 --volume ${`${name}:/files`} --entrypoint sh ${runnable(image)} -c ${'cat > "/files/$1" && chmod 0444 "/files/$1"'} sh ${file}`
  }
}

function streamOutput(child: ProcessPromise, onOutput: NonNullable<DriverOptions['onOutput']>): void {
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => onOutput(chunk, 'stdout'))
  child.stderr.on('data', (chunk: string) => onOutput(chunk, 'stderr'))
}

