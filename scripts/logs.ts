#!/usr/bin/env -S npx tsx
// npm run logs: an application's logs, read back from where the cluster keeps them (the event-log
// storage's logs folder, the workers' work dir: the executors' folders and the drivers' own), so they
// outlive the driver and the workers that wrote them. A short Job (a container on Docker) of the cluster's image
// mounts that storage read-only and prints them; nothing else is touched.
import { clusterDrivers } from './lib/cluster-image.ts'
import { parseConfig, type Config } from './lib/config.ts'
import { runDriver } from './lib/driver.ts'
import { StepError } from './lib/errors.ts'
import { runIfMain } from './lib/main.ts'
import { podTemplate, renderLogsJob } from './lib/manifests.ts'
import { resolvePlatform } from './lib/platform.ts'
import { withStorage } from './lib/storage.ts'
import { makeTarget, type Target } from './lib/target.ts'

/** The line manifests/jobs/spark-logs.yml prints between what the application kept and the log asked for. */
const logStart = '--- log ---'

/** What one application kept: its driver's log files (bytes in all), and each executor's stdout and stderr files (bytes in all). */
export interface KeptLogs {
  driver?: number
  executors: Map<number, number>
}

/** The reader's output: the "kept <bytes> <path>" lines, then the log. */
export function parseKept(output: string, appId: string): { kept: KeptLogs; log: string } {
  const at = output.indexOf(`${logStart}\n`)
  // The reader always prints the line: without it, its beginning was lost (a rotated container log).
  if (at < 0) {
    throw new StepError(
      `the logs of ${appId} came back cut (the reader printed more than the cluster kept of its output)`,
      "  - they are kept beside the event logs: the data folder's spark-events/logs/, else logs/ in the cluster's spark-events claim (a volume on Docker)",
    )
  }
  const head = output.slice(0, at)
  const log = output.slice(at + logStart.length + 1)
  const kept: KeptLogs = { executors: new Map() }
  for (const line of head.split('\n')) {
    const match = /^kept (\d+) (.+)$/.exec(line)
    if (!match) continue
    const [bytes, path] = [Number(match[1]), match[2]]
    // The reader lists the files of the driver folders naming this application only.
    if (/^driver-[^/]+\/driver\.log(?:\.\d+)?$/.test(path)) kept.driver = (kept.driver ?? 0) + bytes
    const executor = new RegExp(`^${appId}/(\\d+)/std(?:err|out)(?:--.*)?$`).exec(path)?.[1]
    if (executor !== undefined) kept.executors.set(Number(executor), (kept.executors.get(Number(executor)) ?? 0) + bytes)
  }
  return { kept, log }
}

const executorList = (kept: KeptLogs) => [...kept.executors.keys()].sort((a, b) => a - b)

/**
 * What to print for the choice made (the driver's log, or one executor's), and a note on stderr
 * saying what else there is; an unknown application or executor is a one-line error with the way on.
 */
export function chooseLogs(appId: string, executor: number | undefined, { kept, log }: ReturnType<typeof parseKept>): { text: string; note: string } {
  const executors = executorList(kept)
  const one = (id: number) => `npm run logs -- ${appId} --executor ${id}`
  if (kept.driver === undefined && executors.length === 0) {
    throw new StepError(
      `no logs are kept for ${appId}`,
      "  - npm run status lists the running applications' ids, npm run history the finished ones'\n  - executors' logs: a worker removes an application's folder once nothing in it has changed for 13 h; applications from before this cluster kept logs have none",
    )
  }
  const others = executors.length ? `executors with logs: ${executors.join(', ')} (${one(executors[0])})` : 'no executor kept a log'
  if (executor === undefined) {
    const text = kept.driver === undefined ? '' : log
    return { text, note: kept.driver === undefined ? `no driver log is kept for ${appId}; ${others}` : others }
  }
  if (!kept.executors.has(executor)) throw new StepError(`${appId} has no log of executor ${executor}`, `  - ${others}`)
  return { text: log, note: `executor ${executor} of ${appId}; ${others}` }
}

export async function readLogs(target: Target, appId: string, executor: number | undefined, onProgress?: (line: string) => void): Promise<{ text: string; note: string }> {
  const { image, storage } = await clusterDrivers(target)
  if (storage.eventsOff) {
    throw new StepError("this cluster keeps no logs: its drivers write no event log, and the logs are kept beside them (cluster:up said why)", '  - cluster:up with --data, or --data-claim with a ReadWriteMany claim, keeps both')
  }
  const job = renderLogsJob(target.manifests, { image, namespace: target.config.namespace, appId, executor })
  withStorage(podTemplate(job), storage, { readOnly: true })
  const { exitCode, log, driver } = await runDriver(target, job, { onProgress })
  if (exitCode !== 0) throw new StepError(`could not read the logs (${driver} exit code ${exitCode})`, log.trimEnd().split('\n').slice(-20).join('\n'))
  return chooseLogs(appId, executor, parseKept(log, appId))
}

/**
 * Writes all of `text` to stdout before resolving: the command line exits once a command returns, and
 * a pipe (`| less`, a test) takes a log of megabytes only as fast as its reader does; what is still
 * queued at the exit is lost.
 */
export function printAll(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())))
}

/** Prints the log on stdout and the note on stderr; the exit code. */
export async function runLogs(target: Target, config: Pick<Config, 'appId' | 'executor'>): Promise<number> {
  const { text, note } = await readLogs(target, config.appId!, config.executor)
  // Docker's output ends with the (empty) stderr after a line break: one end of line is enough.
  if (text.trim()) await printAll(`${text.trimEnd()}\n`)
  console.error(note)
  return 0
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('logs', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  process.exitCode = await runLogs(makeTarget(config, platform), config)
})
