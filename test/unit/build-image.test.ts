import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { buildArgs, imageReference } from '../../scripts/build-image.ts'
import { parseConfig } from '../../scripts/lib/config.ts'
import { dockerDir } from '../../scripts/lib/paths.ts'

const base = { image: 'spark-standalone', sparkVersion: '4.0.1', sparkDist: 'apache' as const }

const scratch = mkdtempSync(join(tmpdir(), 'spark-image-ref-'))
let copy = ''
let copies = 0

/** A fresh copy of docker/ (without its local __pycache__) for each test. */
beforeEach(() => {
  copy = join(scratch, `docker-${++copies}`)
  cpSync(dockerDir, copy, { recursive: true, filter: (source) => !source.includes('__pycache__') })
})

afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe('imageReference', () => {
  it('is <repository>:<spark version>-<12 hex>', () => {
    expect(imageReference(base)).toMatch(/^spark-standalone:4\.0\.1-[0-9a-f]{12}$/)
    expect(imageReference({ ...base, image: 'team/spark', sparkVersion: '3.5.7' })).toMatch(/^team\/spark:3\.5\.7-[0-9a-f]{12}$/)
  })

  it('prefixes the registry', () => {
    const plain = imageReference(base, copy)
    const pushed = imageReference({ ...base, registry: 'localhost:5000' }, copy)
    expect(pushed).toBe(`localhost:5000/${plain}`)
    expect(imageReference({ ...base, registry: 'ghcr.io/team' }, copy)).toMatch(/^ghcr\.io\/team\/spark-standalone:4\.0\.1-[0-9a-f]{12}$/)
  })

  it('is deterministic for the same directory, and depends on content, not location', () => {
    expect(imageReference(base, copy)).toBe(imageReference(base, copy))
    expect(imageReference(base, copy)).toBe(imageReference(base))
  })

  it('changes when a file in the directory changes', () => {
    const before = imageReference(base, copy)
    appendFileSync(join(copy, 'pi.py'), '\n# edited\n')
    const after = imageReference(base, copy)
    expect(after).not.toBe(before)
    expect(after.split('-').at(-1)).toMatch(/^[0-9a-f]{12}$/)
  })

  it('changes when a file is added or renamed', () => {
    const before = imageReference(base, copy)
    writeFileSync(join(copy, 'extra.txt'), 'x')
    const added = imageReference(base, copy)
    expect(added).not.toBe(before)
    renameSync(join(copy, 'extra.txt'), join(copy, 'other.txt'))
    expect(imageReference(base, copy)).not.toBe(added)
  })

  it('changes with a file in a subdirectory', () => {
    const before = imageReference(base, copy)
    mkdirSync(join(copy, 'conf'))
    writeFileSync(join(copy, 'conf', 'spark-defaults.conf'), 'spark.ui.reverseProxy true\n')
    expect(imageReference(base, copy)).not.toBe(before)
  })

  it('ignores __pycache__ directories at any depth', () => {
    const before = imageReference(base, copy)
    mkdirSync(join(copy, '__pycache__'))
    writeFileSync(join(copy, '__pycache__', 'pi.cpython-311.pyc'), Buffer.from([0x42, 0x0d, 0x0d, 0x0a, 1, 2, 3]))
    mkdirSync(join(copy, 'lib', '__pycache__'), { recursive: true })
    writeFileSync(join(copy, 'lib', '__pycache__', 'x.pyc'), 'bytecode')
    const withCaches = imageReference(base, copy)
    writeFileSync(join(copy, '__pycache__', 'pi.cpython-311.pyc'), 'different bytecode')
    expect(imageReference(base, copy)).toBe(withCaches)
    rmSync(join(copy, 'lib', '__pycache__'), { recursive: true })
    // Only an empty lib/ is left: no file, so nothing for the hash either.
    expect(imageReference(base, copy)).toBe(before)
  })

  it('changes with the Spark version, sparkDist and baseImage', () => {
    const reference = imageReference(base, copy)
    const hash = (r: string) => r.slice(r.lastIndexOf('-') + 1)
    expect(hash(imageReference({ ...base, sparkVersion: '3.5.7' }, copy))).not.toBe(hash(reference))
    expect(imageReference({ ...base, sparkDist: 'pypi' }, copy)).not.toBe(reference)
    expect(imageReference({ ...base, baseImage: 'ubuntu:24.04' }, copy)).not.toBe(reference)
    expect(imageReference({ ...base, baseImage: 'ubuntu:24.04' }, copy)).not.toBe(imageReference({ ...base, baseImage: 'debian:trixie-slim' }, copy))
  })

  it('does not change with the repository or registry (only the name part)', () => {
    const hash = (r: string) => r.slice(r.lastIndexOf('-') + 1)
    expect(hash(imageReference({ ...base, image: 'other' }, copy))).toBe(hash(imageReference(base, copy)))
    expect(hash(imageReference({ ...base, registry: 'localhost:5000' }, copy))).toBe(hash(imageReference(base, copy)))
  })
})

describe('buildArgs', () => {
  it('passes the Spark version and distribution', () => {
    expect(buildArgs(base)).toEqual({ SPARK_VERSION: '4.0.1', SPARK_DIST: 'apache' })
  })

  it('omits BASE_IMAGE when unset, so the Dockerfile default stays', () => {
    expect(buildArgs(base)).not.toHaveProperty('BASE_IMAGE')
    expect(buildArgs({ ...base, baseImage: undefined })).not.toHaveProperty('BASE_IMAGE')
    expect(buildArgs({ ...base, baseImage: '' })).not.toHaveProperty('BASE_IMAGE')
  })

  it('passes BASE_IMAGE when set', () => {
    expect(buildArgs({ ...base, sparkDist: 'pypi', baseImage: 'ubuntu:24.04' })).toEqual({ SPARK_VERSION: '4.0.1', SPARK_DIST: 'pypi', BASE_IMAGE: 'ubuntu:24.04' })
  })
})

describe('docker/pypi-lock (the PyPI path installs by digest)', () => {
  it('pins pyspark and py4j by sha256 for the default Spark version, and the build context sends the lock files', () => {
    const version = parseConfig('up', [], {}).sparkVersion
    const lock = readFileSync(join(dockerDir, 'pypi-lock', `pyspark-${version}.txt`), 'utf8')
    expect(lock).toMatch(new RegExp(`^pyspark==${version.replace(/\./g, '\\.')} \\\\\\n\\s+--hash=sha256:[0-9a-f]{64}$`, 'm'))
    expect(lock).toMatch(/^py4j==[\d.]+ \\\n\s+--hash=sha256:[0-9a-f]{64}/m)
    expect(readFileSync(join(dockerDir, '.dockerignore'), 'utf8')).toMatch(/^!pypi-lock\/$/m)
    expect(readFileSync(join(dockerDir, 'install-spark.sh'), 'utf8')).toContain('--require-hashes -r "$lock"')
  })
})
