/**
 * The laptop side of Spark Connect for the e2e suites: a Python venv with the Connect client of
 * the cluster's Spark version, from PyPI, cached under the user's cache dir. The tool itself
 * needs no Python; only the tests that play the user's laptop do.
 *
 * Run alone: `npx tsx scripts/ci/python-client.ts 4.3.0` prints the venv's python.
 */
import { existsSync, readdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { runIfMain } from '../lib/main.ts'
import { cacheDir } from '../lib/paths.ts'
import { clientRequirement } from '../lib/python-client.ts'
import { run } from '../lib/proc.ts'

/**
 * The interpreter of one minor version, as a laptop would have it: `python3.X` from pyenv's
 * versions (these machines have 3.10 to 3.13 there; a shim answers only for the global one), else
 * on PATH. Fails, rather than skips, when there is none: CI must test every version it claims.
 */
export async function hostInterpreter(minor: string): Promise<string> {
  const versions = join(process.env.PYENV_ROOT ?? join(homedir(), '.pyenv'), 'versions')
  const patch = (name: string) => Number(name.split('.')[2]) || 0
  // The newest patch release first (3.12.10 before 3.12.9).
  const installed = existsSync(versions) ? readdirSync(versions).filter((name) => name.startsWith(`${minor}.`)).sort((a, b) => patch(b) - patch(a)) : []
  const candidates = [...installed.map((name) => join(versions, name, 'bin', `python${minor}`)), `python${minor}`]
  for (const candidate of candidates) {
    const found = await run({ nothrow: true })`${candidate} -c ${'import sys, venv; print("%d.%d" % sys.version_info[:2])'}`
    if (found.exitCode === 0 && found.stdout.trim() === minor) return candidate
  }
  throw new Error(`no Python ${minor} with its venv module here (looked in ${versions} and on PATH): install one, e.g. pyenv install ${minor}`)
}

/** The venv's python, with the client importable; made once per Spark version and interpreter (python3 by default). */
export async function ensurePythonClient(sparkVersion: string, interpreter = 'python3', log: (line: string) => void = console.error): Promise<string> {
  const requirement = await clientRequirement(sparkVersion)
  const found = await run({ nothrow: true })`${interpreter} -c ${'import sys, venv; print(sys.version.split()[0])'}`
  if (found.exitCode !== 0) throw new Error(`${interpreter} with its venv module is needed for the Spark Connect e2e tests (Debian: apt install python3-venv)`)
  const minor = found.stdout.trim().split('.').slice(0, 2).join('.')
  const venv = cacheDir('python-client', `${requirement.replace(/[^\w.-]+/g, '-')}-py${minor}`)
  const python = join(venv, 'bin', 'python')
  const ready = join(venv, '.installed')
  if (existsSync(ready)) return python
  log(`python client: creating ${venv} (Python ${found.stdout.trim()}) with ${requirement}`)
  await rm(venv, { recursive: true, force: true })
  await run`${interpreter} -m venv ${venv}`
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
