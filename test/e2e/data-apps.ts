// The user's data in and out, as the e2e suites check it: a CSV the host writes into the data
// folder, read by a submitted app and by a Connect client in the cluster, and the Parquet they
// write back read by the host; then the History Server listing the finished applications.
import { chmodSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { $ } from 'zx'
import { expect } from 'vitest'
import { ensurePythonClient } from '../../scripts/ci/python-client.ts'
import { fetchWithin } from '../../scripts/lib/http.ts'
import { pollUntil } from '../../scripts/lib/poll.ts'
import type { S3Server } from '../../scripts/ci/s3-ground.ts'
import type { CliResult } from './cli.ts'
import { notebookOf, parseLabUrl, runCells, saveNotebook } from './jupyter.ts'

const apps = join(import.meta.dirname, 'apps')
const cities = ['Lagos', 'Lima', 'Oslo']

/** 30 people, 10 per city, ages 20..49: per city 10 people and the sum of its ages. */
const people = Array.from({ length: 30 }, (_, i) => ({ name: `p${i}`, city: cities[i % 3], age: 20 + i }))
export const expectedCities = cities.map((city) => ({ city, people: 10, age_sum: people.filter((p) => p.city === city).reduce((sum, p) => sum + p.age, 0) }))

/** A folder as a user's would be: theirs, not writable by anyone else, with a CSV in it. */
export function makeDataFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spark-data-'))
  chmodSync(dir, 0o755)
  writeCsv(dir)
  return dir
}

export function writeCsv(dir: string): void {
  writeFileSync(join(dir, 'people.csv'), ['name,city,age', ...people.map((p) => `${p.name},${p.city},${p.age}`)].join('\n') + '\n')
}

/** The keys of the S3 server the suite runs, as the CLI takes them from this machine's environment. */
/** The event logs in the data's spark-events/ (not the logs/ folder of the applications' logs beside them). */
export const eventLogs = (data: string): string[] => readdirSync(join(data, 'spark-events')).filter((name) => name !== 'logs')

export const s3Keys = (s3: { accessKey: string; secretKey: string }) => ({ AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey })

/** A bucket on the S3 server with the same CSV in it, put through the S3 API. */
export async function makeBucket(s3: S3Server, bucket: string, folder: string): Promise<void> {
  expect((await s3.request('PUT', `/${bucket}`)).status).toBe(200)
  expect((await s3.request('PUT', `/${bucket}/people.csv`, join(folder, 'people.csv'))).status).toBe(200)
}

export const dataAppArgs = (dataPath: string, output: string) => [join(apps, 'data_app.py'), dataPath, output]

/** The submitted app read all 30 rows and grouped them right. */
export function expectDataApp(result: CliResult): void {
  expect(result.exitCode, result.stderr.slice(-3000)).toBe(0)
  const line = result.stdout.split('\n').find((l) => l.startsWith('DATA '))
  expect(line, result.stdout).toBeDefined()
  expect(JSON.parse(line!.slice('DATA '.length))).toEqual({ rows: 30, cities: expectedCities })
}

/** The same through Connect, from this machine's Python. */
export async function expectDataThroughConnect(sparkVersion: string, connectionString: string, dataPath: string, output: string): Promise<void> {
  const python = await ensurePythonClient(sparkVersion)
  const result = await $({ nothrow: true, quiet: true })`${python} ${join(apps, 'data_client.py')} ${connectionString} ${dataPath} ${output}`
  expect(result.exitCode, result.stderr.slice(-3000)).toBe(0)
  expect(JSON.parse(result.stdout.trim().split('\n').at(-1)!)).toEqual({ rows: 30, cities: expectedCities })
}

/**
 * A Connect client that gets a session (the token is good, the server answers) but whose read of
 * `path` fails in S3A: the server's conf sends s3a:// nowhere it can read. Returns the error text.
 */
export async function expectS3aReadFails(sparkVersion: string, connectionString: string, path: string): Promise<string> {
  const python = await ensurePythonClient(sparkVersion)
  const program = 'import sys\nfrom pyspark.sql import SparkSession\nspark = SparkSession.builder.remote(sys.argv[1]).getOrCreate()\nprint("session", spark.range(3).count(), flush=True)\nprint(spark.read.csv(sys.argv[2]).count())'
  const result = await $({ nothrow: true, quiet: true, timeout: '10m' })`${python} -c ${program} ${connectionString} ${path}`
  expect(result.stdout.split('\n')[0], result.stderr.slice(-3000)).toBe('session 3')
  expect(result.exitCode, result.stdout).not.toBe(0)
  return result.stderr
}

/** The host reads the Parquet the cluster wrote into the folder (pyarrow, from the client's venv). */
export async function expectParquetOnHost(sparkVersion: string, path: string): Promise<void> {
  const python = await ensurePythonClient(sparkVersion)
  const program = 'import json, sys\nimport pyarrow.parquet as pq\nrows = pq.read_table(sys.argv[1]).to_pylist()\nprint(json.dumps(sorted(rows, key=lambda r: r["city"])))'
  const result = await $({ nothrow: true, quiet: true })`${python} -c ${program} ${path}`
  expect(result.exitCode, result.stderr).toBe(0)
  expect(JSON.parse(result.stdout)).toEqual(expectedCities)
}

interface HistoryApplication {
  id: string
  name: string
  attempts: Array<{ completed: boolean }>
}

/**
 * The History Server's REST API lists each named application as completed, with at least `jobs`
 * jobs; and what it shows of their environment never holds one of `secrets` (the cluster's RPC
 * secret, the S3 keys): every such property shows as redacted.
 */
export async function expectHistoryLists(url: string, jobs: Record<string, number>, secrets: string[]): Promise<HistoryApplication[]> {
  const listed = await pollUntil<HistoryApplication[]>('the History Server to list the finished applications', 120_000, async () => {
    const response = await fetchWithin(`${url}/api/v1/applications`, 5_000).catch(() => undefined)
    if (!response?.ok) return { waiting: `GET /api/v1/applications: ${response?.status ?? 'no answer'}` }
    const found = (await response.json()) as HistoryApplication[]
    const done = Object.keys(jobs).every((name) => found.some((app) => app.name === name && app.attempts.some((a) => a.completed)))
    return done ? { done: found } : { waiting: `listed: ${found.map((app) => app.name).join(', ') || 'none'}` }
  })
  for (const [name, atLeast] of Object.entries(jobs)) {
    const app = listed.find((a) => a.name === name && a.attempts.some((attempt) => attempt.completed))!
    const appJobs = (await (await fetchWithin(`${url}/api/v1/applications/${app.id}/jobs`, 10_000)).json()) as Array<{ status: string }>
    expect(appJobs.length, name).toBeGreaterThanOrEqual(atLeast)
    expect(appJobs.every((job) => job.status === 'SUCCEEDED'), name).toBe(true)
    const environment = await (await fetchWithin(`${url}/api/v1/applications/${app.id}/environment`, 10_000)).text()
    const properties = new Map((JSON.parse(environment) as { sparkProperties: Array<[string, string]> }).sparkProperties)
    expect(properties.get('spark.authenticate.secret'), name).toBe('*********(redacted)')
    for (const [key, value] of properties) if (/secret|token|access\.key/i.test(key)) expect(value, `${name}: ${key}`).toBe('*********(redacted)')
    for (const secret of secrets) expect(environment.includes(secret), name).toBe(false)
  }
  return listed
}

/**
 * The cells a notebook runs on the cluster: Pi on the executors, a Python UDF and a pandas_udf, the
 * CSV the host wrote read and grouped, Parquet written back. Each prints one tagged JSON line.
 */
export function notebookCells(dataPath: string, output: string): string[] {
  return [
    'print("MASTER " + sc.master)',
    [
      'import random',
      'def inside(_):',
      '    x, y = random.random(), random.random()',
      '    return x * x + y * y < 1',
      'n = 400_000',
      'print("PI", 4.0 * sc.parallelize(range(n), 4).filter(inside).count() / n)',
    ].join('\n'),
    [
      'import json',
      'import pandas as pd',
      'from pyspark.sql import functions as F',
      '@F.udf("long")',
      'def plus_one(x):',
      '    return x + 1',
      '@F.pandas_udf("long")',
      'def times_two(s: pd.Series) -> pd.Series:',
      '    return s * 2',
      'rows = spark.range(5).select(plus_one("id").alias("a"), times_two("id").alias("b")).orderBy("a").collect()',
      'print("UDFS " + json.dumps([[r.a, r.b] for r in rows]))',
    ].join('\n'),
    [
      `people = spark.read.csv("${dataPath}/people.csv", header=True, inferSchema=True)`,
      'by_city = people.groupBy("city").agg(F.count("*").alias("people"), F.sum("age").alias("age_sum")).orderBy("city")',
      `by_city.write.mode("overwrite").parquet("${dataPath}/${output}")`,
      'print("DATA " + json.dumps({"rows": people.count(), "cities": [row.asDict() for row in by_city.collect()]}))',
    ].join('\n'),
  ]
}

/** Runs notebookCells through JupyterLab's REST and kernel APIs and checks every answer; saves the notebook at `path`. */
export async function expectNotebookRun(labUrl: string, dataPath: string, output: string, path: string): Promise<void> {
  const { baseUrl, token } = parseLabUrl(labUrl)
  const cells = notebookCells(dataPath, output)
  const results = await runCells(baseUrl, token, cells, { timeoutMs: 600_000, path })
  for (const [index, result] of results.entries()) expect(result.status, `cell ${index + 1}: ${result.error}\n${result.stderr}`).toBe('ok')
  const tagged = (tag: string) => results.flatMap((r) => r.stdout.split('\n')).find((line) => line.startsWith(`${tag} `))?.slice(tag.length + 1)
  // The first cell's output opens with where the kernel's application runs and how to see its UI.
  expect(results[0].stdout).toMatch(/^spark: application app-\S+ on spark:\/\/\S+:7077; its UI: /)
  expect(tagged('MASTER')).toMatch(/^spark:\/\/\S+:7077$/)
  expect(Math.abs(Number(tagged('PI')) - Math.PI)).toBeLessThan(0.02)
  expect(JSON.parse(tagged('UDFS')!)).toEqual([[1, 0], [2, 2], [3, 4], [4, 6], [5, 8]])
  expect(JSON.parse(tagged('DATA')!)).toEqual({ rows: 30, cities: expectedCities })
  await saveNotebook(baseUrl, token, path, notebookOf(cells, results))
}
