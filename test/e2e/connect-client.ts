// The laptop side of the Spark Connect e2e tests: the pinned client in a venv, the classic test.py
// through it, and clients that must be refused.
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { $ } from 'zx'
import { expect } from 'vitest'
import { ensurePythonClient, hostInterpreter } from '../../scripts/ci/python-client.ts'
import { cli } from './cli.ts'

const testPy = join(import.meta.dirname, 'apps', 'test.py')

/** Runs the classic README's test.py through Connect; returns its estimate of π. */
export async function piThroughConnect(sparkVersion: string, connectionString: string): Promise<number> {
  const python = await ensurePythonClient(sparkVersion)
  const result = await $({ env: { ...process.env, SPARK_REMOTE: connectionString }, nothrow: true, quiet: true })`${python} ${testPy} 2000000`
  expect(result.exitCode, result.stderr).toBe(0)
  const estimate = /^Pi is roughly (\d\.\d{4})$/m.exec(result.stdout)
  expect(estimate, result.stdout).not.toBeNull()
  return Number(estimate![1])
}

/** A client with this connection string gets nothing done: the server answers UNAUTHENTICATED. */
export async function expectRefused(sparkVersion: string, connectionString: string): Promise<void> {
  const python = await ensurePythonClient(sparkVersion)
  const program = 'import sys\nfrom pyspark.sql import SparkSession\nprint(SparkSession.builder.remote(sys.argv[1]).getOrCreate().range(3).count())'
  const result = await $({ nothrow: true, quiet: true })`${python} -c ${program} ${connectionString}`
  expect(result.exitCode).not.toBe(0)
  expect(`${result.stdout}${result.stderr}`).toMatch(/UNAUTHENTICATED/)
}

const udfsClient = join(import.meta.dirname, 'apps', 'udfs_client.py')

/** A UDF, a pandas_udf, mapInPandas and toPandas through Connect from this interpreter: the numbers, and the Python that sent them. */
export async function expectUdfsThroughConnect(sparkVersion: string, connectionString: string, interpreter = 'python3'): Promise<void> {
  const python = await ensurePythonClient(sparkVersion, interpreter)
  const result = await $({ nothrow: true, quiet: true })`${python} ${udfsClient} ${connectionString}`
  expect(result.exitCode, result.stderr.slice(-3000)).toBe(0)
  const sums = JSON.parse(result.stdout.trim().split('\n').at(-1)!)
  // Σ(i+1), Σ2i, Σi² over 0..999, and Σi over 0..9.
  expect(sums).toEqual({ python: expect.stringMatching(/^3\.\d+$/), udf: 500500, pandas_udf: 999000, map_in_pandas: 332833500, to_pandas: 45 })
}

/**
 * `connect` from a machine whose python3 is another minor version than the executors': refused in
 * one line before any server starts, naming both versions and what to run.
 */
export async function expectOtherPythonRefused(env: Record<string, string>, args: string[], minor: string, clusterPython: string): Promise<void> {
  // A directory whose python3 is that interpreter, first on PATH: the tool asks python3, as a laptop's would answer.
  const bin = mkdtempSync(join(tmpdir(), `python${minor}-`))
  symlinkSync((await $`command -v ${await hostInterpreter(minor)}`.quiet()).stdout.trim(), join(bin, 'python3'))
  const result = await cli({ ...env, PATH: `${bin}:${process.env.PATH}` }, 'connect', ...args)
  rmSync(bin, { recursive: true })
  expect(result.exitCode, result.stderr).toBe(1)
  const errors = result.stderr.split('\n').filter((line) => line.startsWith('error:'))
  expect(errors).toEqual([`error: your client's Python is ${minor} but the cluster's executors run Python ${clusterPython}, so its Python UDFs would fail (PYTHON_VERSION_MISMATCH)`])
  expect(result.stderr).toContain(`npm run cluster:up -- --python ${minor}`)
}
