#!/usr/bin/env -S npx tsx
// The real minikube CLI for the contract tests and the fixture recorder, built from the Go module
// proxy and cached outside the repo. k8s.io/minikube is served by the proxy only under an exact
// version and is not looked up in the checksum database here (GONOSUMDB). Its go.mod carries replace
// lines, which Go honours only in the main module, so the build runs inside a writable copy of the
// downloaded module rather than from a wrapper module.
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { $, which } from 'zx'
import { runIfMain } from '../../lib/main.ts'
import { cacheDir } from '../../lib/paths.ts'

export const minikubeVersion = '1.37.0'

/** Where the binary is cached (never inside the repo). */
export const minikubeBinDir = cacheDir('minikube', `v${minikubeVersion}`)
export const minikubeBinary = join(minikubeBinDir, 'minikube')

type Log = (line: string) => void

interface ModuleDownload {
  Dir: string
  Origin?: { Hash?: string }
  Error?: string
}

/** A writable copy of the downloaded k8s.io/minikube module and the environment to build in it. */
export interface MinikubeSource {
  dir: string
  env: NodeJS.ProcessEnv
  /** The release's git commit, as the proxy reports it (may be empty). */
  commit: string
}

/**
 * Downloads k8s.io/minikube@v{minikubeVersion} from the proxy and runs `build` inside a writable
 * copy of it (so its replace lines apply), removed afterwards. Shared by every binary the module makes.
 */
export async function withMinikubeSource<T>(log: Log, build: (source: MinikubeSource) => Promise<T>): Promise<T> {
  const goDir = await findGo()
  const module = `k8s.io/minikube@v${minikubeVersion}`
  // GOFLAGS=-mod=mod: the copied module has no vendor dir and its go.sum may need topping up.
  const env = {
    ...process.env,
    PATH: goDir ? `${goDir}:${process.env.PATH ?? ''}` : process.env.PATH,
    GONOSUMDB: appendList(process.env.GONOSUMDB, 'k8s.io/minikube'),
    GOFLAGS: '-mod=mod',
  }
  log(`minikube: downloading ${module} from the Go module proxy`)
  const download = await $({ quiet: true, env, nothrow: true })`go mod download -json ${module}`
  const info = parseDownload(download.stdout)
  if (download.exitCode !== 0 || !info?.Dir) {
    throw new Error(`go mod download ${module} failed: ${info?.Error ?? (download.stderr.trim() || `exit ${download.exitCode}`)}`)
  }

  await mkdir(cacheDir('minikube'), { recursive: true })
  // The module cache is read-only: build in a writable copy next to the cache entry.
  const work = await mkdtemp(join(cacheDir('minikube'), `src-v${minikubeVersion}-`))
  try {
    await cp(info.Dir, work, { recursive: true })
    // cp keeps the module cache's read-only modes; the build writes into the tree (go.sum).
    await $({ quiet: true })`chmod -R u+w ${work}`
    return await build({ dir: work, env, commit: info.Origin?.Hash ?? '' })
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

/** Builds minikube v{minikubeVersion} unless it is cached; returns the binary's path. */
export async function ensureMinikubeBinary(log: Log): Promise<string> {
  if (existsSync(minikubeBinary)) {
    log(`minikube: cached at ${minikubeBinary}`)
    return minikubeBinary
  }
  await mkdir(minikubeBinDir, { recursive: true })
  await withMinikubeSource(log, async ({ dir: work, env, commit }) => {
    // The release Makefile's MINIKUBE_LDFLAGS (without them `minikube version` says v0.0.0-unset).
    const ldflags = [
      `-X k8s.io/minikube/pkg/version.version=v${minikubeVersion}`,
      `-X k8s.io/minikube/pkg/version.isoVersion=v${minikubeVersion}`,
      `-X k8s.io/minikube/pkg/version.gitCommitID=${commit}`,
      // The Makefile's STORAGE_PROVISIONER_TAG for this release.
      '-X k8s.io/minikube/pkg/version.storageProvisionerVersion=v5',
    ].join(' ')
    log(`minikube: building v${minikubeVersion} (cold: ~4-8 min on 2 cores)`)
    const started = Date.now()
    const staged = join(work, 'out', 'minikube')
    await $({ cwd: work, env, quiet: true })`go build -ldflags ${ldflags} -o ${staged} ./cmd/minikube`
    // minikube writes a log file per command into TMPDIR: keep it in the work dir.
    const said = (await $({ cwd: work, env: { ...env, TMPDIR: work }, quiet: true })`${staged} version --short`).stdout.trim()
    if (said !== `v${minikubeVersion}`) throw new Error(`the minikube just built says it is ${said}, not v${minikubeVersion}`)
    // Stage then rename, so an interrupted build never leaves a half-written "cached" binary.
    await rename(staged, minikubeBinary)
    log(`minikube: built ${minikubeBinary} in ${Math.round((Date.now() - started) / 1000)} s`)
  })
  return minikubeBinary
}

/** undefined when `go` is on PATH, else the directory of the usual install; throws when there is none. */
async function findGo(): Promise<string | undefined> {
  if (await which('go', { nothrow: true })) return undefined
  if (existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin'
  throw new Error(`building from minikube v${minikubeVersion} needs Go >= 1.24 (on PATH or in /usr/local/go; install it from go.dev)`)
}

function appendList(list: string | undefined, item: string): string {
  return list ? `${list},${item}` : item
}

function parseDownload(stdout: string): ModuleDownload | undefined {
  try {
    return JSON.parse(stdout) as ModuleDownload
  } catch {
    return undefined
  }
}

runIfMain(import.meta.url, async () => {
  console.log(await ensureMinikubeBinary((line) => console.error(line)))
})
