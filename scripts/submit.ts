#!/usr/bin/env -S npx tsx
// spark-submit of your own PySpark file, with the driver inside the cluster (so executors can reach
// it): a Kubernetes Job whose files come from a ConfigMap, or a container on the cluster's Docker
// network with them in a read-only volume. Output streams live; the exit code is the app's.
import { readFileSync, statSync } from 'node:fs'
import { basename } from 'node:path'
import { clusterDrivers } from './lib/cluster-image.ts'
import { parseConfig, type Config } from './lib/config.ts'
import { runDriver, type DriverRun } from './lib/driver.ts'
import { UsageError } from './lib/errors.ts'
import { installInterruptHandler } from './lib/interrupt.ts'
import { runIfMain } from './lib/main.ts'
import { podTemplate, renderSubmitJob } from './lib/manifests.ts'
import { withStorage } from './lib/storage.ts'
import { resolvePlatform } from './lib/platform.ts'
import { makeTarget, type Target } from './lib/target.ts'

type SubmitConfig = Pick<Config, 'app' | 'appArgs' | 'pyFiles' | 'files' | 'confs'>

/**
 * The app, --py-files and --files read from disk by base name, checked before anything touches
 * the cluster: each must be a regular file with a plain name (a ConfigMap key may not start with
 * '..', which the kubelet keeps for itself), names must not clash (they share one directory), and
 * all must fit one ConfigMap on Kubernetes (sized first, read only then).
 */
export function readSubmitFiles(config: SubmitConfig, limitBytes: number, where: string): Map<string, Buffer> {
  const sized = new Map<string, { flag: string; path: string; size: number }>()
  const flagged: Array<[string, string]> = [['the app', config.app!], ...config.pyFiles.map((f): [string, string] => ['--py-files', f]), ...config.files.map((f): [string, string] => ['--files', f])]
  for (const [flag, path] of flagged) {
    const name = basename(path)
    if (!/^[-._a-zA-Z0-9]+$/.test(name) || name.startsWith('..') || name === '.') {
      throw new UsageError(`${flag}: file names may hold only letters, digits, '.', '-' and '_', and may not start with '..' (got "${name}")`)
    }
    if (sized.has(name)) throw new UsageError(`${flag}: two files are named ${name}; they share one directory in the driver, so rename one`)
    let size: number
    try {
      const stats = statSync(path)
      if (!stats.isFile()) throw new Error('not a file')
      size = stats.size
    } catch (error) {
      throw new UsageError(`${flag}: cannot read ${path} (${(error as Error).message})`)
    }
    sized.set(name, { flag, path, size })
  }
  const total = [...sized].reduce((sum, [name, file]) => sum + name.length + file.size, 0)
  if (total > limitBytes) {
    throw new UsageError(`the app and its files total ${Math.ceil(total / 1024)} KiB, above the ${limitBytes / 2 ** 20} MiB ${where}: put large data where the cluster reads it (object storage, a volume) and pass its path instead`)
  }
  const files = new Map<string, Buffer>()
  for (const [name, { flag, path }] of sized) {
    try {
      files.set(name, readFileSync(path))
    } catch (error) {
      throw new UsageError(`${flag}: cannot read ${path} (${(error as Error).message})`)
    }
  }
  return files
}

export async function submitApp(target: Target, config: SubmitConfig, onOutput: (chunk: string, stream: 'stdout' | 'stderr') => void, onProgress?: (line: string) => void): Promise<DriverRun> {
  const files = readSubmitFiles(config, target.runtime.submitFiles.limit, target.runtime.submitFiles.holder)
  const { image, storage } = await clusterDrivers(target)
  const job = renderSubmitJob(target.manifests, {
    image,
    namespace: target.config.namespace,
    timeoutSeconds: target.config.timeoutSeconds,
    app: basename(config.app!),
    appArgs: config.appArgs,
    pyFiles: config.pyFiles.map((file) => basename(file)),
    files: config.files.map((file) => basename(file)),
    confs: config.confs,
  })
  withStorage(podTemplate(job), storage)
  return runDriver(target, job, { files, onOutput, onProgress })
}

/** The app's output on ours as it comes; what the tool says goes to stderr, prefixed. Returns the app's exit code. */
export async function runSubmit(target: Target, config: Config): Promise<number> {
  const say = (line: string) => console.error(`submit: ${line}`)
  const result = await submitApp(target, config, (chunk, stream) => (stream === 'stdout' ? process.stdout : process.stderr).write(chunk), say)
  if (result.exitCode === 124) say(`exit code 124: the driver was stopped at --timeout (${target.config.timeoutSeconds} s), unless your app exits 124 itself; raise --timeout for longer jobs`)
  say(`driver ${result.driver} exited with ${result.exitCode}; it and its files are deleted`)
  return result.exitCode
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('submit', process.argv.slice(2))
  installInterruptHandler()
  const { platform } = await resolvePlatform(config)
  process.exitCode = await runSubmit(makeTarget(config, platform), config)
})
