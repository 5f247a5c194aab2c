/**
 * The laptop side of Spark Connect for the e2e suites: a Python venv with the Connect client of
 * the cluster's Spark version, from PyPI, cached under the user's cache dir. The tool itself
 * needs no Python; only the tests that play the user's laptop do.
 *
 * Run alone: `npx tsx scripts/ci/python-client.ts 4.3.0` prints the venv's python.
 */
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { runIfMain } from '../lib/main.ts'
import { cacheDir } from '../lib/paths.ts'
import { clientRequirement } from '../lib/python-client.ts'
import { run } from '../lib/proc.ts'

/** The venv's python, with the client importable; made once per Spark version. */
export async function ensurePythonClient(sparkVersion: string, log: (line: string) => void = console.error): Promise<string> {
  const requirement = await clientRequirement(sparkVersion)
  const venv = cacheDir('python-client', requirement.replace(/[^\w.-]+/g, '-'))
  const python = join(venv, 'bin', 'python')
  const ready = join(venv, '.installed')
  if (existsSync(ready)) return python
  const found = await run({ nothrow: true })`python3 -c ${'import sys, venv; print(sys.version.split()[0])'}`
  if (found.exitCode !== 0) throw new Error('python3 with its venv module is needed for the Spark Connect e2e tests (Debian: apt install python3-venv)')
  log(`python client: creating ${venv} (Python ${found.stdout.trim()}) with ${requirement}`)
  await rm(venv, { recursive: true, force: true })
  await run`python3 -m venv ${venv}`
  await run({ timeout: 15 * 60_000 })`${join(venv, 'bin', 'pip')} install --disable-pip-version-check --progress-bar off ${requirement}`
  await run`${python} -c ${'import pyspark.sql.connect.session'}`
  await run`touch ${ready}`
  return python
}

runIfMain(import.meta.url, async () => {
  const version = process.argv[2]
  if (!version) throw new Error('usage: python-client.ts <spark version>')
  console.log(await ensurePythonClient(version))
})
