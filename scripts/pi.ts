#!/usr/bin/env -S npx tsx
// README step "python test.py", moved into the cluster: a driver pod (a Kubernetes Job, or a container on
// the cluster's Docker network) runs spark-submit of docker/pi.py, so executors can reach their driver.
import { parseConfig } from './lib/config.ts'
import { clusterDrivers } from './lib/cluster-image.ts'
import { runDriver } from './lib/driver.ts'
import { StepError } from './lib/errors.ts'
import { runIfMain } from './lib/main.ts'
import { podTemplate, renderPiJob } from './lib/manifests.ts'
import { withStorage } from './lib/storage.ts'
import { resolvePlatform } from './lib/platform.ts'
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
  const { image, storage } = await clusterDrivers(target)
  const job = renderPiJob(target.manifests, { image, namespace: target.config.namespace, partitions, timeoutSeconds: target.config.timeoutSeconds })
  withStorage(podTemplate(job), storage)
  const started = Date.now()
  const { exitCode, log, driver } = await runDriver(target, job, { onProgress })
  const seconds = (Date.now() - started) / 1000
  const estimate = parsePiResult(log)
  if (exitCode !== 0 || !estimate) {
    throw new StepError(`Pi job ${driver} failed (exit code ${exitCode})${estimate ? '' : ', no PI_RESULT line'}`, `driver log (last lines):\n${tail(log)}`)
  }
  return { ...estimate, seconds, driver }
}

export function describePi(result: PiRun): string {
  return `Pi ≈ ${result.pi.toFixed(6)} (error ${Math.abs(result.pi - Math.PI).toExponential(1)}; ${result.partitions} partitions, ${result.samples.toLocaleString('en')} samples) in ${result.seconds.toFixed(1)} s`
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('pi', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  console.log(describePi(await runPi(makeTarget(config, platform), config.partitions, (line) => console.error(line))))
})
