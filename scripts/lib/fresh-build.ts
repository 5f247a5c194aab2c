import { readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildBundle, distDir, sourcesFile } from '../build.ts'
import { repoRoot } from './paths.ts'

const rebuiltVariable = 'SPARK_K8S_REBUILT'

/**
 * The first source (as listed in dist/sources.json by scripts/build.ts) changed after the bundle
 * was built, or undefined when none was. A bundle without that list was not built by us: trusted.
 */
export function staleSource(root: string, bundle: string, sourcesFile: string): string | undefined {
  let sources: string[]
  try {
    sources = JSON.parse(readFileSync(sourcesFile, 'utf8')) as string[]
  } catch {
    return undefined
  }
  const built = statSync(bundle).mtimeMs
  return sources.find((source) => {
    try {
      return statSync(join(root, source)).mtimeMs > built
    } catch {
      return true
    }
  })
}

/**
 * When the running bundle is older than a source (a `git pull` or an edit without `npm ci`), it is
 * rebuilt and the command re-run on the new one, whose exit code is returned. Undefined: carry on.
 * Under tsx (development, tests) there is no bundle to check.
 */
export async function rerunIfStale(entryUrl: string): Promise<number | undefined> {
  const entry = fileURLToPath(entryUrl)
  // The re-run below is never checked again: a source dated in the future would rebuild forever.
  if (relative(distDir, entry).startsWith('..') || process.env[rebuiltVariable]) return undefined
  const changed = staleSource(repoRoot, entry, sourcesFile)
  if (!changed) return undefined
  process.stderr.write(`${changed} changed since the last build: rebuilding dist/ (npm run build)\n`)
  await buildBundle()
  // Ctrl-C reaches the re-run too (one process group): this process waits for it to clean up and exit.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => undefined)
  // Loaded only here: every command passes this check, and child_process drags in net and streams.
  const { spawnSync } = await import('node:child_process')
  return spawnSync(process.execPath, [entry, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, [rebuiltVariable]: '1' } }).status ?? 1
}
