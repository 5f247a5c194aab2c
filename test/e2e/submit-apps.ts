// The apps `npm run submit` runs in the e2e suites, and what they must print.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'
import type { CliResult } from './cli.ts'

const apps = join(import.meta.dirname, 'apps')

/** Arguments a shell would mangle: they must reach the app exactly. */
export const awkwardArgs = ['two words', '--not-a-flag-of-ours', '$HOME', "it's", 'the']

export const wordcountArgs = ['--py-files', join(apps, 'words.py'), '--files', join(apps, 'lines.txt'), '--conf', 'spark.sql.shuffle.partitions=3', join(apps, 'wordcount.py'), ...awkwardArgs]
export const failingArgs = [join(apps, 'fails.py')]

/** A driver log bound small enough for a test (-DdriverLog.fileSize, docker/driver-log4j2.properties), and an app logging well past 5 of it. */
export const driverLogBound = 64 * 1024
export const loggingArgs = ['--conf', 'spark.driver.extraJavaOptions=-DdriverLog.fileSize=64KB', join(apps, 'logs_a_lot.py'), '5000']

/**
 * The kept files of the driver of `appId` (`list` prints "<bytes> <path>" for each driver.log file of
 * the driver folder whose `application` file names it): its log rolled at the bound, at most 4 old files
 * and the current one, each at most the bound and the line that crossed it; `logs` still finds it by the
 * id once the line naming it has rolled away, and prints its newest lines.
 */
export async function expectDriverLogRolled(list: () => Promise<string>, logs: (...args: string[]) => Promise<CliResult>, appId: string): Promise<void> {
  const files = (await list()).trim().split('\n').map((line) => line.split(' ')).map(([bytes, path]) => ({ bytes: Number(bytes), name: path.split('/').at(-1)! }))
  expect(files.map((file) => file.name).sort(), JSON.stringify(files)).toEqual(['driver.log', 'driver.log.1', 'driver.log.2', 'driver.log.3', 'driver.log.4'])
  // log4j rolls before the event that finds the file past the bound: one line over it at most.
  for (const file of files) expect(file.bytes, file.name).toBeLessThanOrEqual(driverLogBound + 256)
  for (const file of files.filter((f) => f.name !== 'driver.log')) expect(file.bytes, file.name).toBeGreaterThan(driverLogBound)
  const printed = await logs(appId)
  expect(printed.exitCode, printed.stderr).toBe(0)
  expect(printed.stdout).toMatch(/INFO logs_a_lot: line 004999 x{80}$/m)
  expect(printed.stdout).not.toContain('line 000000 ')
  expect(printed.stdout).not.toContain(`Connected to Spark cluster with app ID ${appId}`)
}

/** The app printed its verbatim arguments, the grouped counts of lines.txt plus them, and their checksum. */
export function expectWordcount(result: CliResult): void {
  expect(result.exitCode, result.stderr).toBe(0)
  const line = (prefix: string) => result.stdout.split('\n').find((l) => l.startsWith(`${prefix} `))?.slice(prefix.length + 1)
  expect(JSON.parse(line('ARGS') ?? 'null')).toEqual(awkwardArgs)
  const words = [...readFileSync(join(apps, 'lines.txt'), 'utf8').split(/\s+/), ...awkwardArgs.flatMap((a) => a.split(/\s+/))].filter(Boolean)
  const counts = new Map<string, number>()
  for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1)
  const expected = [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  expect(JSON.parse(line('COUNTS') ?? 'null')).toEqual(expected)
  expect(line('CHECKSUM')).toBe(createHash('sha256').update(JSON.stringify(expected)).digest('hex'))
}

export function expectFailure(result: CliResult): void {
  expect(result.exitCode).not.toBe(0)
  expect(result.exitCode).not.toBe(2)
  const output = `${result.stdout}${result.stderr}`
  expect(output).toMatch(/Traceback \(most recent call last\)/)
  expect(output).toMatch(/ValueError: raised on purpose by fails\.py/)
}

/** The application id fails.py printed. */
export function failedAppOf(result: CliResult): string {
  const appId = /^APP_ID (app-\S+)$/m.exec(result.stdout)?.[1]
  expect(appId, result.stdout).toBeDefined()
  return appId!
}

/**
 * `npm run logs` (run by `logs` with its arguments) after fails.py's driver and workers are gone: its
 * driver's log, then each executor that kept logs, one of which holds the task's Python traceback;
 * an unknown application is one line.
 */
export async function expectExecutorLogs(logs: (...args: string[]) => Promise<CliResult>, appId: string): Promise<void> {
  const driverLog = await logs(appId)
  expect(driverLog.exitCode, driverLog.stderr).toBe(0)
  expect(driverLog.stdout).toContain(`Connected to Spark cluster with app ID ${appId}`)
  // The driver's log4j lines carry the lost task's reason too.
  expect(driverLog.stdout).toContain('ValueError: raised on purpose by fails.py')
  const executors = /executors with logs: ([\d, ]+) \(/.exec(driverLog.stderr)?.[1].split(', ')
  expect(executors, driverLog.stderr).toBeDefined()
  const executorLogs = await Promise.all(executors!.map((id) => logs(appId, '--executor', id)))
  for (const log of executorLogs) expect(log.exitCode, log.stderr).toBe(0)
  const raised = executorLogs.find((log) => log.stdout.includes('ValueError: raised on purpose by fails.py'))
  expect(raised?.stdout, executorLogs.map((log) => log.stdout).join('\n')).toMatch(/Traceback \(most recent call last\)/)
  const unknown = await logs('app-20000101000000-0000')
  expect([unknown.exitCode, unknown.stderr.split('\n').filter((line) => line.startsWith('error:'))]).toEqual([1, ['error: no logs are kept for app-20000101000000-0000']])
}

/** What the e2e clusters are built with (cluster:up reads these like --pip and --packages): a pip package and a JDBC driver. */
export const userPackages = { SPARK_K8S_PIP: 'tabulate==0.9.0', SPARK_K8S_PACKAGES: 'com.h2database:h2:2.3.232' }
export const userCodeArgs = [join(apps, 'user_code.py')]

/** The app imported pandas and the pip package, and read 1..10 through the baked JDBC driver on driver and executors. */
export function expectUserCode(result: CliResult): void {
  expect(result.exitCode, result.stderr.slice(-3000)).toBe(0)
  const line = result.stdout.split('\n').find((l) => l.startsWith('USER_CODE '))
  expect(line, result.stdout).toBeDefined()
  expect(JSON.parse(line!.slice('USER_CODE '.length))).toEqual({ jdbc_sum: 55, cube_sum: 3025, pandas: expect.stringMatching(/^2\./), tabulate: '0.9.0' })
  // tabulate's own table of the last three rows.
  expect(result.stdout).toMatch(/^\s+10\s+1000$/m)
}
