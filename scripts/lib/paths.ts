import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The project root (this file lives in scripts/lib/). */
export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)))
export const manifestsDir = join(repoRoot, 'manifests')
export const dockerDir = join(repoRoot, 'docker')

/** Where downloads and built ground live: never inside the repo. */
export function cacheDir(...parts: string[]): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache')
  return join(base, 'spark-standalone-k8s', ...parts)
}
