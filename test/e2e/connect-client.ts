// The laptop side of the Spark Connect e2e tests: the pinned client in a venv, the classic test.py
// through it, and clients that must be refused.
import { join } from 'node:path'
import { $ } from 'zx'
import { expect } from 'vitest'
import { ensurePythonClient } from '../../scripts/ci/python-client.ts'

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
