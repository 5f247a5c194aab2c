import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { buildArgs, buildFailureReason, imageReference } from '../../scripts/build-image.ts'
import { parseConfig } from '../../scripts/lib/config.ts'
import { dockerDir } from '../../scripts/lib/paths.ts'

const base = { image: 'spark-standalone', sparkVersion: '4.0.1', sparkDist: 'apache' as const, python: '3.11', pipRequirements: [], packages: [] }

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
  it('is <repository>:<spark version>-py<python>-<12 hex>', () => {
    expect(imageReference(base)).toMatch(/^spark-standalone:4\.0\.1-py3\.11-[0-9a-f]{12}$/)
    expect(imageReference({ ...base, image: 'team/spark', sparkVersion: '3.5.7', python: '3.12' })).toMatch(/^team\/spark:3\.5\.7-py3\.12-[0-9a-f]{12}$/)
  })

  it("without --python, names this machine's python3 when the image can run it, else 3.11", () => {
    const unset = { ...base, python: undefined }
    expect(imageReference(unset, copy, () => '3.13')).toMatch(/-py3\.13-/)
    expect(imageReference({ ...unset, sparkVersion: '3.5.7' }, copy, () => '3.13')).toMatch(/-py3\.11-/)
    expect(imageReference(unset, copy, () => '3.9')).toMatch(/-py3\.11-/)
    expect(imageReference(unset, copy, () => undefined)).toMatch(/-py3\.11-/)
  })

  it('prefixes the registry', () => {
    const plain = imageReference(base, copy)
    const pushed = imageReference({ ...base, registry: 'localhost:5000' }, copy)
    expect(pushed).toBe(`localhost:5000/${plain}`)
    expect(imageReference({ ...base, registry: 'ghcr.io/team' }, copy)).toMatch(/^ghcr\.io\/team\/spark-standalone:4\.0\.1-py3\.11-[0-9a-f]{12}$/)
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

  it("does not change with JupyterLab's files (docker/notebook/, its own image): a re-lock of JupyterLab rolls no cluster", () => {
    const before = imageReference(base, copy)
    appendFileSync(join(copy, 'notebook', 'pypi-lock.txt'), '\n# relocked\n')
    writeFileSync(join(copy, 'notebook', 'extra.py'), 'x = 1\n')
    expect(imageReference(base, copy)).toBe(before)
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

  it('changes with your pip requirements and Maven packages, and not without them', () => {
    const reference = imageReference(base, copy)
    expect(imageReference({ ...base, pipRequirements: ['tabulate==0.9.0'] }, copy)).not.toBe(reference)
    expect(imageReference({ ...base, packages: ['com.h2database:h2:2.3.232'] }, copy)).not.toBe(reference)
    expect(imageReference({ ...base, pipRequirements: ['tabulate==0.9.0'] }, copy)).toBe(imageReference({ ...base, pipRequirements: ['tabulate==0.9.0'] }, copy))
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
  it('passes the Spark version, distribution, Python and the base image that gives that Python', () => {
    expect(buildArgs(base)).toEqual({ SPARK_VERSION: '4.0.1', SPARK_DIST: 'apache', PYTHON_VERSION: '3.11', BASE_IMAGE: 'debian:bookworm-slim' })
    expect(buildArgs({ ...base, python: '3.13' }).BASE_IMAGE).toBe('debian:trixie-slim')
    expect(buildArgs({ ...base, python: '3.12' }).BASE_IMAGE).toBe('python:3.12-slim-bookworm')
    expect(buildArgs({ ...base, python: '3.10' }).BASE_IMAGE).toBe('python:3.10-slim-bookworm')
  })

  it('passes --base-image over the default', () => {
    expect(buildArgs({ ...base, sparkDist: 'pypi', baseImage: 'ubuntu:24.04' })).toEqual({ SPARK_VERSION: '4.0.1', SPARK_DIST: 'pypi', PYTHON_VERSION: '3.11', BASE_IMAGE: 'ubuntu:24.04' })
  })

  it('passes your requirements one per line and your packages comma-separated, only when there are some', () => {
    expect(buildArgs(base)).not.toHaveProperty('PIP_REQUIREMENTS')
    expect(buildArgs(base)).not.toHaveProperty('SPARK_PACKAGES')
    const args = buildArgs({ ...base, pipRequirements: ['a==1', 'b'], packages: ['g:a:1', 'g:b:2'] })
    expect(args.PIP_REQUIREMENTS).toBe('a==1\nb')
    expect(args.SPARK_PACKAGES).toBe('g:a:1,g:b:2')
  })
})

describe('buildFailureReason', () => {
  it("gives the install scripts' last error line, with pip's or Ivy's reason, without colours or BuildKit's prefix", () => {
    const legacy = ['Step 21/30 : RUN sh add-packages.sh pip', '\x1b[91mERROR: No matching distribution found for nosuch==1.0', '\x1b[0m\x1b[91madd-packages: error: pip could not install your requirements: No matching distribution found for nosuch==1.0']
    expect(buildFailureReason(legacy)).toBe('add-packages: error: pip could not install your requirements: No matching distribution found for nosuch==1.0')
    expect(buildFailureReason(['#14 12.31 add-packages: error: Ivy could not resolve g:a:1: unresolved dependency: g#a;1: not found'])).toBe('add-packages: error: Ivy could not resolve g:a:1: unresolved dependency: g#a;1: not found')
    expect(buildFailureReason(['E: Unable to locate package nothing', 'returned a non-zero code: 100'])).toBeUndefined()
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

  it('pins numpy, pandas and pyarrow by sha256 for both Spark lines, for every Python an image offers, on x86_64 and aarch64', () => {
    for (const [file, pythons] of [['python-libs-spark4.txt', ['310', '311', '312', '313']], ['python-libs-spark3.5.txt', ['310', '311']]] as const) {
      const lock = readFileSync(join(dockerDir, 'pypi-lock', file), 'utf8')
      for (const name of ['numpy', 'pandas', 'pyarrow', 'python-dateutil', 'pytz', 'tzdata', 'six']) expect(lock, `${file}: ${name}`).toMatch(new RegExp(`^${name}==[\\w.]+ \\\\$`, 'm'))
      // At least one digest per wheel: 2 architectures × the Pythons (some releases upload two manylinux tags of each).
      const compiled = lock.split(/\n(?=\S)/).filter((entry) => /^(numpy|pandas|pyarrow)==/.test(entry))
      expect(compiled).toHaveLength(3)
      for (const entry of compiled) expect(entry.match(/--hash=sha256:[0-9a-f]{64}/g)!.length, entry.split(' ')[0]).toBeGreaterThanOrEqual(2 * pythons.length)
    }
    for (const script of ['common.sh', 'install-python.sh', 'add-packages.sh']) expect(readFileSync(join(dockerDir, '.dockerignore'), 'utf8')).toContain(`!${script}`)
  })
})
