// npm run logs: its arguments, the reader Job (its script run here by bash on a folder laid out as the
// workers and drivers leave it), and the choice of what to print.
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../scripts/lib/config.ts'
import { StepError, UsageError } from '../../scripts/lib/errors.ts'
import { envValue, loadManifests, logsFolder, mainContainer, podTemplate, renderLogsJob, shellDeadlineSeconds } from '../../scripts/lib/manifests.ts'
import { dockerDir } from '../../scripts/lib/paths.ts'
import { parseProperties } from '../../scripts/lib/properties.ts'
import { withStorage } from '../../scripts/lib/storage.ts'
import { chooseLogs, parseKept } from '../../scripts/logs.ts'

const manifests = loadManifests()
const appId = 'app-20261206071234-0003'
const scratch = mkdtempSync(join(tmpdir(), 'ssk8s-logs-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** The reader's output for this folder, as the Job's container would print it. */
function read(folder: string, ...args: string[]): string {
  const job = renderLogsJob(manifests, { image: 'spark:1', namespace: 'default', appId: args[0], executor: args[1] === undefined ? undefined : Number(args[1]) })
  const [command, ...rest] = mainContainer(job).args!
  const run = spawnSync(command, rest.map((arg) => (arg === logsFolder(manifests) ? folder : arg)), { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  expect(run.status, run.stderr).toBe(0)
  return run.stdout
}

describe('npm run logs arguments', () => {
  it('take one application id and an optional executor id', () => {
    const plain = parseConfig('logs', [appId])
    expect([plain.appId, plain.executor]).toEqual([appId, undefined])
    expect(parseConfig('logs', [appId, '--executor', '2'])).toMatchObject({ appId, executor: 2 })
  })

  it('refuse no id, two ids, a malformed one and a bad --executor in one line naming the accepted form', () => {
    const usage = (argv: string[]) => {
      try {
        parseConfig('logs', argv)
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError)
        return (error as Error).message
      }
      throw new Error(`accepted ${argv.join(' ')}`)
    }
    const form = 'logs takes one application id: npm run logs -- app-20260101120000-0000 [--executor N]'
    expect(usage([])).toBe(`${form} (got "")`)
    expect(usage([appId, appId])).toBe(`${form} (got "${appId} ${appId}")`)
    expect(usage(['../etc'])).toBe(`${form} (got "../etc")`)
    expect(usage([appId, '--executor', 'one'])).toBe('--executor must be a whole number from 0 to 999999 (got "one")')
    expect(usage([appId, '--executor'])).toBe('--executor needs a value: an executor id: 0, 1, 2…')
  })
})

describe('the logs reader', () => {
  const folder = join(scratch, 'logs')
  mkdirSync(join(folder, appId, '0'), { recursive: true })
  mkdirSync(join(folder, appId, '1'), { recursive: true })
  mkdirSync(join(folder, 'app-20261206071234-0004', '0'), { recursive: true })
  // Each driver's own folder (docker/driver-log4j2.properties): its rolled files, and the applications it ran.
  mkdirSync(join(folder, 'driver-spark-submit-x1'))
  writeFileSync(join(folder, 'driver-spark-submit-x1', 'application'), `${appId}\n`)
  writeFileSync(join(folder, 'driver-spark-submit-x1', 'driver.log.1'), 'INFO SparkContext: Running Spark\n')
  writeFileSync(join(folder, 'driver-spark-submit-x1', 'driver.log.2'), `INFO StandaloneSchedulerBackend: Connected to Spark cluster with app ID ${appId}\n`)
  writeFileSync(join(folder, 'driver-spark-submit-x1', 'driver.log'), 'ERROR TaskSetManager: Task 0 failed\n')
  // Another driver, which ran another application whose id starts like this one's.
  mkdirSync(join(folder, 'driver-spark-submit-x2'))
  writeFileSync(join(folder, 'driver-spark-submit-x2', 'application'), `${appId}0\n`)
  writeFileSync(join(folder, 'driver-spark-submit-x2', 'driver.log'), 'another driver\n')
  writeFileSync(join(folder, appId, '0', 'stderr--2026-12-06--07-12-40-0001'), 'older\n')
  writeFileSync(join(folder, appId, '0', 'stderr'), 'ValueError: boom\n')
  writeFileSync(join(folder, appId, '0', 'stdout'), 'printed\n')
  writeFileSync(join(folder, appId, '0', 'app.py'), 'not a log\n')
  writeFileSync(join(folder, appId, '1', 'stderr'), '')
  writeFileSync(join(folder, 'app-20261206071234-0004', '0', 'stderr'), 'another app\n')

  it("prints what the application kept, then its driver's log from the folder naming it, oldest rolled file first", () => {
    const output = read(folder, appId)
    const { kept, log } = parseKept(output, appId)
    const driverLog = `INFO SparkContext: Running Spark\nINFO StandaloneSchedulerBackend: Connected to Spark cluster with app ID ${appId}\nERROR TaskSetManager: Task 0 failed\n`
    expect(kept).toEqual({ driver: driverLog.length, executors: new Map([[0, 6 + 17 + 8], [1, 0]]) })
    expect(log).toBe(driverLog)
    expect(chooseLogs(appId, undefined, { kept, log })).toEqual({ text: log, note: `executors with logs: 0, 1 (npm run logs -- ${appId} --executor 0)` })
  })

  it("prints one executor's stderr, oldest rolled file first, then its stdout", () => {
    const { kept, log } = parseKept(read(folder, appId, '0'), appId)
    expect(log).toBe(`==> ${appId}/0/stderr--2026-12-06--07-12-40-0001 <==\nolder\n==> ${appId}/0/stderr <==\nValueError: boom\n==> ${appId}/0/stdout <==\nprinted\n`)
    expect(chooseLogs(appId, 0, { kept, log }).note).toBe(`executor 0 of ${appId}; executors with logs: 0, 1 (npm run logs -- ${appId} --executor 0)`)
  })

  it('refuses an executor the application has no log of, naming those it has', () => {
    const parsed = parseKept(read(folder, appId, '7'), appId)
    expect(() => chooseLogs(appId, 7, parsed)).toThrow(`${appId} has no log of executor 7`)
    try {
      chooseLogs(appId, 7, parsed)
    } catch (error) {
      expect((error as StepError).details).toBe(`  - executors with logs: 0, 1 (npm run logs -- ${appId} --executor 0)`)
    }
  })

  it('refuses an application that kept nothing (or no logs folder at all) in one line, with where ids are listed', () => {
    for (const output of [read(folder, 'app-20261206071234-0099'), read(join(scratch, 'none'), appId)]) {
      const parsed = parseKept(output, 'app-20261206071234-0099')
      expect(() => chooseLogs('app-20261206071234-0099', undefined, parsed)).toThrow(/^no logs are kept for app-20261206071234-0099$/)
    }
  })

  it('says so when only executors kept logs (a driver from before driver logs were kept)', () => {
    const parsed = parseKept(read(folder, 'app-20261206071234-0004'), 'app-20261206071234-0004')
    expect(chooseLogs('app-20261206071234-0004', undefined, parsed)).toEqual({ text: '', note: 'no driver log is kept for app-20261206071234-0004; executors with logs: 0 (npm run logs -- app-20261206071234-0004 --executor 0)' })
  })
})

describe('printing a log', () => {
  it('hands all of it to a pipe read slowly before the command line exits', async () => {
    // The command line exits (process.exit) as soon as the command returns.
    const log = `${'INFO a driver line\n'.repeat(64 * 1024)}END\n`
    const script = `import { printAll } from ${JSON.stringify(join(import.meta.dirname, '../../scripts/logs.ts'))}; await printAll(\`\${'INFO a driver line\\n'.repeat(64 * 1024)}END\\n\`); process.exit(0)`
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
    let received = ''
    child.stdout.setEncoding('utf8')
    // A reader slower than the writer: a chunk at a time, with a pause between.
    child.stdout.on('data', (chunk: string) => {
      received += chunk
      child.stdout.pause()
      setTimeout(() => child.stdout.resume(), 5)
    })
    await new Promise((resolve) => child.on('close', resolve))
    expect(received.length).toBe(log.length)
  })
})

describe('the logs reader on a large log', () => {
  // One executor keeps up to 2 streams × 5 files × 16 MiB; the kubelet rotates a container log at 10 Mi,
  // and the tool reads the reader's whole log once it ended: what it prints stays well under that.
  const mib = 1024 * 1024
  const folder = join(scratch, 'large', 'logs')
  const big = 'app-20261206071234-0005'
  mkdirSync(join(folder, big, '0'), { recursive: true })
  const line = (mark: string, bytes: number) => `${mark.padEnd(99, '.')}\n`.repeat(bytes / 100)
  mkdirSync(join(folder, 'driver-spark-pi-x3'))
  writeFileSync(join(folder, 'driver-spark-pi-x3', 'application'), `${big}\n`)
  writeFileSync(join(folder, 'driver-spark-pi-x3', 'driver.log.1'), line('driver old', 3 * mib))
  writeFileSync(join(folder, 'driver-spark-pi-x3', 'driver.log'), line('driver new', 3 * mib))
  writeFileSync(join(folder, big, '0', 'stderr--2026-12-06--07-12-40-0001'), line('old', 16 * mib))
  writeFileSync(join(folder, big, '0', 'stderr--2026-12-06--07-20-00-0002'), line('middle', 16 * mib))
  writeFileSync(join(folder, big, '0', 'stderr'), line('new', 1 * mib) + 'ValueError: boom\n')
  writeFileSync(join(folder, big, '0', 'stdout'), 'printed\n')

  it("prints what was kept in full, then only the newest part of an executor's streams, saying what it cut, its size and where it lives", () => {
    const output = read(folder, big, '0')
    expect(output.length).toBeLessThan(5 * mib)
    const { kept, log } = parseKept(output, big)
    expect(kept.executors.get(0)).toBe(['stderr--2026-12-06--07-12-40-0001', 'stderr--2026-12-06--07-20-00-0002', 'stderr', 'stdout'].reduce((sum, file) => sum + readLength(big, file), 0))
    const headers = log.split('\n').filter((l) => l.startsWith('==> '))
    expect(headers).toEqual([
      `==> ${big}/0/stderr--2026-12-06--07-12-40-0001: not shown, ${readLength(big, 'stderr--2026-12-06--07-12-40-0001')} bytes (the whole file: logs/${big}/0/stderr--2026-12-06--07-12-40-0001 on the event-log storage) <==`,
      `==> ${big}/0/stderr--2026-12-06--07-20-00-0002: its last ${2 * mib - readLength(big, 'stderr')} of ${readLength(big, 'stderr--2026-12-06--07-20-00-0002')} bytes (the whole file: logs/${big}/0/stderr--2026-12-06--07-20-00-0002 on the event-log storage) <==`,
      `==> ${big}/0/stderr <==`,
      `==> ${big}/0/stdout <==`,
    ])
    expect(log.endsWith(`ValueError: boom\n==> ${big}/0/stdout <==\nprinted\n`)).toBe(true)
  })

  it("prints the newest part of a large driver's log: its current file whole, the end of the rolled one before", () => {
    const { kept, log } = parseKept(read(folder, big), big)
    const [older, newer] = ['driver.log.1', 'driver.log'].map((file) => statSync(join(folder, 'driver-spark-pi-x3', file)).size)
    expect(kept.driver).toBe(older + newer)
    const [header, ...rest] = log.split('\n')
    expect(header).toBe(`==> driver-spark-pi-x3/driver.log.1: its last ${4 * mib - newer} of ${older} bytes (the whole file: logs/driver-spark-pi-x3/driver.log.1 on the event-log storage) <==`)
    expect(rest.join('\n').length).toBe(4 * mib)
    expect(rest.join('\n').endsWith(line('driver new', 3 * mib))).toBe(true)
  })

  function readLength(app: string, file: string): number {
    return statSync(join(folder, app, '0', file)).size
  }

  it('takes output without its end-of-listing line for output that was cut, not for an application that kept nothing', () => {
    const cut = read(folder, big).split('--- log ---\n')[1]
    expect(() => parseKept(cut, big)).toThrow(`the logs of ${big} came back cut (the reader printed more than the cluster kept of its output)`)
  })
})

describe('where the logs are kept', () => {
  it("is one folder: the workers' work dir, where every driver keeps its own (the image's log4j2 configuration its conf names), read by the Job from the event-log volume, read-only", () => {
    const folder = logsFolder(manifests)
    const driverArgs = [mainContainer(manifests.piJob).args!, mainContainer(manifests.connect.deployment).args!, mainContainer(manifests.notebook.deployment).env!.find((v) => v.name === 'PYSPARK_SUBMIT_ARGS')!.value!.split(/\s+/)]
    // Spark's own default first (the console as Spark keeps it), then the image's file, which adds the kept log.
    const configuration = '/opt/spark/conf/driver-log4j2.properties'
    for (const args of driverArgs) expect(args).toContain(`spark.driver.defaultJavaOptions=-Dlog4j2.configurationFile=org/apache/spark/log4j2-defaults.properties,${configuration}`)
    expect(readFileSync(join(dockerDir, 'Dockerfile'), 'utf8')).toContain(`\nCOPY driver-log4j2.properties ${configuration}\n`)
    expect(readFileSync(join(dockerDir, '.dockerignore'), 'utf8').split('\n')).toContain('!driver-log4j2.properties')
    const properties = new Map(parseProperties(readFileSync(join(dockerDir, 'driver-log4j2.properties'), 'utf8')).map((line) => [line.key, line.value]))
    // One folder per driver at the top of the work dir, which the workers' cleanup looks into; the log and its index in it.
    expect(properties.get('property.folder')).toMatch(new RegExp(`^${folder}/driver-\\$\\{[^/]+\\}$`))
    expect([properties.get('appender.kept.fileName'), properties.get('appender.kept.filePattern'), properties.get('appender.application.fileName')]).toEqual(['${folder}/driver.log', '${folder}/driver.log.%i', '${folder}/application'])
    // Rolled as the executors' streams are (spark-worker.yml): at 16 MiB, 4 old files kept.
    const workerOpts = envValue(mainContainer(manifests.worker), 'SPARK_WORKER_OPTS')!
    expect(workerOpts).toContain(`-Dspark.executor.logs.rolling.maxSize=${16 * 1024 * 1024} `)
    expect(properties.get('appender.kept.policy.size.size')).toBe('${sys:driverLog.fileSize:-16MB}')
    expect(workerOpts).toContain('-Dspark.executor.logs.rolling.maxRetainedFiles=4')
    expect(properties.get('appender.kept.strategy.max')).toBe('4')
    // A running driver's folder is touched (its log rolled, or made anew when empty) well within the
    // workers' TTL, however long the driver is quiet (a Connect server, a notebook kernel).
    const ttl = Number(/-Dspark\.worker\.cleanup\.appDataTtl=(\d+)/.exec(workerOpts)?.[1])
    expect(properties.get('appender.kept.policy.touch.type')).toBe('CronTriggeringPolicy')
    const hours = Number(/^0 0 0\/(\d+) \* \* \?$/.exec(properties.get('appender.kept.policy.touch.schedule') ?? '')?.[1])
    expect(hours * 3600).toBeLessThanOrEqual(ttl / 2)
    const events = mainContainer(manifests.worker).volumeMounts!.find((m) => m.name === 'events')!.mountPath
    expect(folder.startsWith(`${events}/`)).toBe(true)
    const job = renderLogsJob(manifests, { image: 'spark:1', namespace: 'team', appId, executor: 1 })
    expect(mainContainer(job).args!.slice(-3)).toEqual([folder, appId, '1'])
    expect(job.metadata?.namespace).toBe('team')
    // The data folder's spark-events/ when there is one, still read-only; no secret mounted.
    const template = withStorage(podTemplate(job), { data: { source: { hostPath: { path: '/home/me/lake' } }, mountPath: '/data', what: 'folder' } }, { readOnly: true })
    expect(template.spec!.volumes!.find((v) => v.name === 'events')).toEqual({ name: 'events', hostPath: { path: '/home/me/lake/spark-events' } })
    expect(template.spec!.containers[0].volumeMounts!.every((m) => m.readOnly || m.mountPath === '/tmp')).toBe(true)
    expect(template.spec!.volumes!.some((v) => v.secret)).toBe(false)
  })

  it("outlives every application with static executors: a worker removes an app's folder, shared by all workers, once nothing in it changed for the TTL", () => {
    // Spark's WorkDirCleanup spares only the apps whose executors run on the worker cleaning up; the
    // executor dirs of a running app on another worker were created when it started. The longest such
    // app: a shell (its deadline) or a Pi or submit driver (--timeout, at most 7200 s); an hour to spare.
    expect(parseConfig('submit', ['--timeout', '7200', 'app.py']).timeoutSeconds).toBe(7200)
    expect(() => parseConfig('submit', ['--timeout', '7201', 'app.py'])).toThrow(UsageError)
    const ttl = Number(/-Dspark\.worker\.cleanup\.appDataTtl=(\d+)/.exec(envValue(mainContainer(manifests.worker), 'SPARK_WORKER_OPTS')!)?.[1])
    expect(ttl).toBeGreaterThanOrEqual(Math.max(shellDeadlineSeconds, 7200) + 3600)
    // The dynamic-allocation drivers (Connect, notebook kernels) release even executors that hold
    // cached blocks before then: Spark's default keeps those for ever.
    const dynamic = [mainContainer(manifests.connect.deployment).args!.join(' '), envValue(mainContainer(manifests.notebook.deployment), 'PYSPARK_SUBMIT_ARGS')!]
    for (const args of dynamic) {
      const hours = Number(/spark\.dynamicAllocation\.cachedExecutorIdleTimeout=(\d+)h/.exec(args)?.[1])
      expect(hours * 3600).toBeLessThanOrEqual(ttl - 3600)
    }
    const refusal = (() => {
      try {
        chooseLogs(appId, undefined, parseKept('--- log ---\n', appId))
      } catch (error) {
        return error as StepError
      }
    })()
    expect(refusal?.details).toContain(`a worker removes an application's folder once nothing in it has changed for ${ttl / 3600} h`)
  })
})
