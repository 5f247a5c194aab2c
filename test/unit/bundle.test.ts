// What the npm scripts run: the bundle in dist/ (built from these sources by test/build-bundle.ts),
// as real processes. Which modules each kind of command loads is recorded by a preload
// (test/fixtures/load-recorder/), so "only the commands that need it load it" is checked, not assumed.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { bundleEntry, distDir, packageOf, packagesFile } from '../../scripts/build.ts'
import { staleSource } from '../../scripts/lib/fresh-build.ts'
import { ParsedFileCache } from '../../scripts/lib/parsed-cache.ts'
import { repoRoot } from '../../scripts/lib/paths.ts'

const scratch = mkdtempSync(join(tmpdir(), 'ssk8s-bundle-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** The packages the files of dist/ carry inside them (written by the build: esbuild's inputs per output). */
const packagesIn = (): Record<string, string[]> => JSON.parse(readFileSync(packagesFile, 'utf8'))

/**
 * Runs the bundle; `loaded` lists the packages the process loaded, from node_modules or inside a file
 * of dist/ it opened (listr2 and the Kubernetes client are bundled into chunks), `modules` every module it imported.
 */
function runBundle(args: string[], env: Record<string, string> = {}) {
  const record = join(scratch, `loads-${Math.random().toString(36).slice(2)}`)
  writeFileSync(record, '')
  const result = spawnSync(process.execPath, ['--import', join(repoRoot, 'test/fixtures/load-recorder/record.mjs'), bundleEntry, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', LOAD_RECORD: record, ...env },
  })
  const modules = readFileSync(record, 'utf8').split('\n').filter(Boolean).map((line) => line.split(' ')[1])
  const files = modules.map((module) => (module.startsWith('file:') ? fileURLToPath(module) : module))
  const bundled = packagesIn()
  const loaded = files.flatMap((file) => packageOf(file) ?? bundled[relative(distDir, file)] ?? [])
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, loaded: [...new Set(loaded)], modules }
}

// Unreachable on purpose: the commands below fail at their first Docker call, after their imports.
const noDocker = { DOCKER_HOST: `unix://${join(tmpdir(), 'ssk8s-no-docker.sock')}` }

describe('the bundle in dist/', () => {
  it('answers --help from node alone, loading no package at all', () => {
    runBundle(['up', '--help']) // the first run may parse the manifests into the cache
    const help = runBundle(['up', '--help'])
    expect(help.status).toBe(0)
    expect(help.stdout).toMatch(/^Usage: npm run cluster:up/)
    expect(help.stderr).toBe('')
    expect(help.loaded).toEqual([])
  })

  it('answers --help and a bad flag without reading the task graphs or the network and process modules of node', () => {
    for (const args of [['up', '--help'], ['scale', '--workers', 'x']]) {
      const { modules } = runBundle(args)
      expect(modules.filter((url) => /\/chunks\/tasks-|^(node:)?(child_process|http|https|net|tls|crypto)$/.test(url)), args.join(' ')).toEqual([])
    }
    // What the check above looks for is there once a command runs.
    const { modules } = runBundle(['down', '--platform', 'docker'], noDocker)
    expect(modules).toEqual(expect.arrayContaining(['node:http', expect.stringMatching(/\/chunks\/tasks-[^/]+\.js$/)]))
  })

  it('rejects a bad flag in one line, exit 2, loading no package at all', () => {
    const rejected = runBundle(['up', '--workers', 'x'])
    expect(rejected.status).toBe(2)
    expect(rejected.stderr).toBe('error: --workers must be a whole number from 1 to 64 (got "x")\n')
    expect(rejected.loaded).toEqual([])
  })

  it('status on Docker loads neither listr2 nor the Kubernetes client: its first call asks the engine on its socket', () => {
    const status = runBundle(['status', '--platform', 'docker'], noDocker)
    expect(status.status).toBe(1)
    expect(status.stderr).toMatch(/^error: cannot reach the Docker engine at unix:\/\/.*ssk8s-no-docker\.sock: connect ENOENT/m)
    expect(status.loaded).not.toContain('listr2')
    expect(status.loaded).not.toContain('@kubernetes/client-node')
  })

  it('down on Docker loads listr2 (its graph) but neither zx nor the Kubernetes client: the engine is asked on its socket, not through the CLI', () => {
    const down = runBundle(['down', '--platform', 'docker'], noDocker)
    expect(down.status).toBe(1)
    expect(down.stderr).toMatch(/Delete everything labelled app=spark/)
    expect(down.stderr).toMatch(/^error: cannot reach the Docker engine at unix:\/\/.*ssk8s-no-docker\.sock: connect ENOENT/m)
    expect(down.loaded).toContain('listr2')
    expect(down.loaded).not.toContain('zx')
    expect(down.loaded).not.toContain('@kubernetes/client-node')
  })

  it('status on Kubernetes loads the Kubernetes client from its chunk (what the checks above would see)', () => {
    const status = runBundle(['status', '--platform', 'kubernetes', '--context', 'none'], { KUBECONFIG: join(scratch, 'no-kubeconfig') })
    expect(status.status).toBe(1)
    expect(status.loaded).toContain('@kubernetes/client-node')
  })
})

describe('staleSource', () => {
  const root = join(scratch, 'project')
  const bundle = join(root, 'bundle.js')
  const sources = join(root, 'sources.json')
  const at = (path: string, seconds: number) => utimesSync(path, seconds, seconds)

  it('names the first listed source changed after the bundle, or a listed source that is gone', () => {
    rmSync(root, { recursive: true, force: true })
    spawnSync('mkdir', ['-p', root])
    for (const file of ['a.ts', 'b.ts', 'bundle.js']) writeFileSync(join(root, file), '')
    writeFileSync(sources, JSON.stringify(['a.ts', 'b.ts']))
    at(join(root, 'a.ts'), 1_000)
    at(join(root, 'b.ts'), 1_000)
    at(bundle, 2_000)
    expect(staleSource(root, bundle, sources)).toBeUndefined()
    at(join(root, 'b.ts'), 3_000)
    expect(staleSource(root, bundle, sources)).toBe('b.ts')
    at(join(root, 'b.ts'), 1_000)
    rmSync(join(root, 'a.ts'))
    expect(staleSource(root, bundle, sources)).toBe('a.ts')
  })

  it('trusts a bundle it has no source list for', () => {
    expect(staleSource(root, bundle, join(root, 'none.json'))).toBeUndefined()
  })
})

describe('ParsedFileCache', () => {
  const file = join(scratch, 'input.txt')
  const cacheFile = join(scratch, 'cache', 'parsed.json')
  const parseCounting = () => {
    const calls: string[] = []
    return { calls, parse: (path: string) => (calls.push(path), readFileSync(path, 'utf8').toUpperCase()) }
  }

  it('parses once, then reads the result back until the file changes', () => {
    writeFileSync(file, 'one')
    const first = parseCounting()
    const cache = new ParsedFileCache<string>(cacheFile)
    expect(cache.get(file, first.parse)).toBe('ONE')
    cache.save()
    const second = parseCounting()
    expect(new ParsedFileCache<string>(cacheFile).get(file, second.parse)).toBe('ONE')
    expect(second.calls).toEqual([])
    writeFileSync(file, 'three')
    expect(new ParsedFileCache<string>(cacheFile).get(file, second.parse)).toBe('THREE')
    expect(second.calls).toEqual([file])
  })

  it('ignores a cache file it cannot read', () => {
    writeFileSync(cacheFile, '{not json')
    const counting = parseCounting()
    expect(new ParsedFileCache<string>(cacheFile).get(file, counting.parse)).toBe(readFileSync(file, 'utf8').toUpperCase())
    expect(counting.calls).toEqual([file])
  })

  it('drops the entries of files that are gone when it next saves', () => {
    const gone = join(scratch, 'gone.txt')
    writeFileSync(file, 'kept')
    writeFileSync(gone, 'gone')
    const { parse } = parseCounting()
    const cache = new ParsedFileCache<string>(cacheFile)
    cache.get(file, parse)
    cache.get(gone, parse)
    cache.save()
    expect(Object.keys(JSON.parse(readFileSync(cacheFile, 'utf8')))).toEqual([file, gone])
    rmSync(gone)
    writeFileSync(file, 'changed')
    const next = new ParsedFileCache<string>(cacheFile)
    next.get(file, parse)
    next.save()
    expect(Object.keys(JSON.parse(readFileSync(cacheFile, 'utf8')))).toEqual([file])
  })
})
