import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The project root: the nearest directory above this module with a package.json (from scripts/lib/ or the bundle in dist/). */
export const repoRoot = projectRootAbove(dirname(fileURLToPath(import.meta.url)))

function projectRootAbove(dir: string): string {
  if (existsSync(join(dir, 'package.json'))) return dir
  const parent = dirname(dir)
  if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`)
  return projectRootAbove(parent)
}
export const manifestsDir = join(repoRoot, 'manifests')
export const dockerDir = join(repoRoot, 'docker')
/** Under docker/: JupyterLab's image (its Dockerfile, in-image files and lock), built on the cluster's. */
export const notebookSubdir = 'notebook'

/** Where downloads and built ground live: never inside the repo. */
export function cacheDir(...parts: string[]): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache')
  return join(base, 'spark-standalone-k8s', ...parts)
}
