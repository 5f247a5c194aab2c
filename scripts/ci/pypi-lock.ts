#!/usr/bin/env -S npx tsx
/**
 * Regenerates docker/pypi-lock/python-libs-spark*.txt: the pandas, pyarrow and numpy every image
 * carries, pinned by the digests PyPI's simple index gives for their Linux wheels (x86_64 and
 * aarch64, so Apple-silicon and ARM builders verify too) on each Python the image offers.
 * A maintainer's tool: run it when moving a pin, and commit what it writes.
 *
 *   npx tsx scripts/ci/pypi-lock.ts
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runIfMain } from '../lib/main.ts'
import { dockerDir } from '../lib/paths.ts'
import { imagePythons } from '../lib/python-version.ts'

interface Lock {
  file: string
  why: string
  pins: Record<string, string>
  pythons: readonly string[]
}

const common = { 'python-dateutil': '2.9.0.post0', pytz: '2025.2', tzdata: '2025.2', six: '1.17.0' }

/** Versions inside what each Spark line declares for pandas-on-Spark and Arrow, with wheels for every Python it runs. */
const locks: Lock[] = [
  { file: 'python-libs-spark4.txt', why: 'Spark 4.x', pins: { numpy: '2.2.6', pandas: '2.3.3', pyarrow: '21.0.0', ...common }, pythons: imagePythons('4.0.0') },
  { file: 'python-libs-spark3.5.txt', why: 'Spark 3.5.x (numpy 1: its pandas API predates numpy 2)', pins: { numpy: '1.26.4', pandas: '2.2.3', pyarrow: '17.0.0', ...common }, pythons: imagePythons('3.5.9') },
]

interface SimpleFile {
  filename: string
  hashes: { sha256: string }
  yanked?: unknown
}

function wanted(filename: string, version: string, pythons: readonly string[]): boolean {
  if (!filename.endsWith('.whl') || !filename.includes(`-${version}-`)) return false
  if (filename.includes('-none-any.whl')) return true
  const linux = /manylinux[^-]*(x86_64|aarch64)\.whl$/.test(filename)
  return linux && pythons.some((python) => filename.includes(`-cp${python.replace('.', '')}-cp${python.replace('.', '')}-`))
}

async function pinned(name: string, version: string, pythons: readonly string[]): Promise<string> {
  const response = await fetch(`https://pypi.org/simple/${name}/`, { headers: { Accept: 'application/vnd.pypi.simple.v1+json' } })
  if (!response.ok) throw new Error(`PyPI's index of ${name} answered ${response.status}`)
  const files = ((await response.json()) as { files: SimpleFile[] }).files.filter((file) => !file.yanked && wanted(file.filename, version, pythons))
  if (files.length === 0) throw new Error(`no Linux wheel of ${name}==${version} for Python ${pythons.join(', ')}`)
  return [`${name}==${version}`, ...files.map((file) => `--hash=sha256:${file.hashes.sha256}`).sort()].join(' \\\n    ')
}

runIfMain(import.meta.url, async () => {
  for (const lock of locks) {
    const header = [
      `# pip install --require-hashes -r this file: the Python data libraries of images with ${lock.why},`,
      `# for Python ${lock.pythons.join(', ')} on x86_64 and aarch64. Written by scripts/ci/pypi-lock.ts; do not edit.`,
    ]
    const body = await Promise.all(Object.entries(lock.pins).map(([name, version]) => pinned(name, version, lock.pythons)))
    writeFileSync(join(dockerDir, 'pypi-lock', lock.file), `${[...header, ...body].join('\n')}\n`)
    console.log(`wrote docker/pypi-lock/${lock.file}`)
  }
})
