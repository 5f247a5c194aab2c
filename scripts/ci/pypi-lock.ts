#!/usr/bin/env -S npx tsx
/**
 * Regenerates docker/pypi-lock/python-libs-spark*.txt: the pandas, pyarrow and numpy every image
 * carries, pinned by the digests PyPI's simple index gives for their Linux wheels (x86_64 and
 * aarch64, so Apple-silicon and ARM builders verify too) on each Python the image offers; and
 * docker/notebook/pypi-lock.txt: JupyterLab and ipykernel with every package they pull in, for the
 * notebook image (docker/notebook/), resolved by uv (run from a throwaway venv when not on PATH).
 * A maintainer's tool: run it when moving a pin, and commit what it writes.
 *
 *   npx tsx scripts/ci/pypi-lock.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { which } from 'zx'
import { runIfMain } from '../lib/main.ts'
import { dockerDir } from '../lib/paths.ts'
import { run } from '../lib/proc.ts'
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

/** The notebook image adds these to a cluster image of either Spark line, so one lock covers every Python of both. */
const notebookRequirements = ['jupyterlab', 'ipykernel']
const notebookPythons = [...new Set([...imagePythons('4.0.0'), ...imagePythons('3.5.9')])].sort()
const arches = ['x86_64', 'aarch64'] as const

interface SimpleFile {
  filename: string
  hashes: { sha256: string }
  yanked?: unknown
}

/**
 * Whether a file of `name==version` is a wheel pip may pick on Linux x86_64 or aarch64 (glibc) under
 * one of `pythons`: pure, built for that CPython, or for CPython's stable ABI (abi3) from that version on.
 */
export function linuxWheelFits(filename: string, version: string, pythons: readonly string[]): boolean {
  const parts = filename.match(/^[^-]+-([^-]+)(?:-\d[^-]*)?-([^-]+)-([^-]+)-([^-]+)\.whl$/)
  if (!parts || parts[1] !== version) return false
  const [, , pyTags, abiTags, platformTags] = parts
  const platforms = platformTags.split('.')
  if (!platforms.some((platform) => platform === 'any' || /^(manylinux\d*|manylinux_\d+_\d+|linux)_(x86_64|aarch64)$/.test(platform))) return false
  const minors = pythons.map((python) => Number(python.split('.')[1]))
  return pyTags.split('.').some((pyTag) =>
    abiTags.split('.').some((abi) => {
      if (abi === 'none' && /^py3\d*$/.test(pyTag)) return pyTag === 'py3' || minors.includes(Number(pyTag.slice(3)))
      const cpython = /^cp3(\d+)$/.exec(pyTag)
      if (!cpython) return false
      const minor = Number(cpython[1])
      if (abi === 'abi3') return minors.some((m) => m >= minor)
      return (abi === pyTag || abi === 'none') && minors.includes(minor)
    }),
  )
}

async function pinned(name: string, version: string, pythons: readonly string[], marker = ''): Promise<string> {
  const response = await fetch(`https://pypi.org/simple/${name}/`, { headers: { Accept: 'application/vnd.pypi.simple.v1+json' } })
  if (!response.ok) throw new Error(`PyPI's index of ${name} answered ${response.status}`)
  const files = ((await response.json()) as { files: SimpleFile[] }).files.filter((file) => !file.yanked && linuxWheelFits(file.filename, version, pythons))
  if (files.length === 0) throw new Error(`no Linux wheel of ${name}==${version} for Python ${pythons.join(', ')}`)
  const requirement = `${name}==${version}${marker ? ` ; ${marker}` : ''}`
  return [requirement, ...[...new Set(files.map((file) => `--hash=sha256:${file.hashes.sha256}`))].sort()].join(' \\\n    ')
}

/** `name==version` lines of uv's output (markers dropped: the caller knows the target). */
export function parsePins(compiled: string): Map<string, string> {
  const pins = new Map<string, string>()
  for (const line of compiled.split('\n')) {
    const pin = /^([A-Za-z0-9._-]+)==([^\s;]+)/.exec(line)
    if (!pin) continue
    if (pins.has(pin[1]) && pins.get(pin[1]) !== pin[2]) throw new Error(`uv picked two versions of ${pin[1]}: ${pins.get(pin[1])} and ${pin[2]}`)
    pins.set(pin[1], pin[2])
  }
  return pins
}

/** The marker that limits a package to the Pythons that need it (tomli below 3.11, say); '' when all do. */
export function pythonMarker(needing: readonly string[], all: readonly string[]): string {
  if (all.every((python) => needing.includes(python))) return ''
  return needing.map((python) => `python_version == "${python}"`).join(' or ')
}

/** uv itself, or one installed from PyPI into a throwaway venv (removed by the caller). */
async function uvCommand(scratch: string): Promise<string> {
  const onPath = await which('uv', { nothrow: true })
  if (onPath) return onPath
  await run`python3 -m venv ${join(scratch, 'uv')}`
  await run`${join(scratch, 'uv', 'bin', 'pip')} install --quiet --disable-pip-version-check uv`
  return join(scratch, 'uv', 'bin', 'uv')
}

/**
 * One version of each package for every Python and architecture (uv's universal resolution, fewest
 * versions), wheels only, with the pins the data libraries' locks share; then uv per Python and
 * architecture within those versions, which says which packages each needs and that it has wheels.
 */
async function notebookLock(scratch: string): Promise<string[]> {
  const uv = await uvCommand(scratch)
  const requirements = join(scratch, 'requirements.in')
  const constraints = join(scratch, 'constraints.txt')
  writeFileSync(requirements, `${notebookRequirements.join('\n')}\n`)
  writeFileSync(constraints, `${Object.entries(common).map(([name, version]) => `${name}==${version}`).join('\n')}\n`)
  const compile = async (target: string[], constraintFile: string) =>
    parsePins((await run`${uv} pip compile --quiet --no-header --no-annotate --only-binary :all: ${target} -c ${constraintFile} ${requirements}`).stdout)
  const universal = await compile(['--universal', '--fork-strategy', 'fewest', '--python-version', notebookPythons[0]], constraints)
  const chosen = join(scratch, 'chosen.txt')
  writeFileSync(chosen, `${[...universal].map(([name, version]) => `${name}==${version}`).join('\n')}\n`)
  const needs = new Map<string, Set<string>>()
  for (const python of notebookPythons) {
    const perArch = await Promise.all(arches.map((arch) => compile(['--python-platform', `${arch}-manylinux_2_28`, '--python-version', python], chosen)))
    const [x86, arm] = perArch.map((pins) => [...pins.keys()].sort().join(' '))
    if (x86 !== arm) throw new Error(`Python ${python} needs other packages on x86_64 than on aarch64: ${x86} / ${arm}`)
    for (const name of perArch[0].keys()) needs.set(name, (needs.get(name) ?? new Set()).add(python))
  }
  // Packages only another OS needs (appnope, pywinpty, colorama) are left out.
  // One index request at a time: a hundred at once time out.
  const entries: string[] = []
  for (const [name, version] of universal) {
    if (!needs.has(name)) continue
    const pythons = notebookPythons.filter((python) => needs.get(name)!.has(python))
    entries.push(await pinned(name, version, pythons, pythonMarker(pythons, notebookPythons)))
  }
  return entries
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
  const scratch = mkdtempSync(join(tmpdir(), 'pypi-lock-'))
  try {
    const header = [
      `# pip install --require-hashes --only-binary :all: -r this file: ${notebookRequirements.join(' and ')} with everything they need,`,
      `# for the notebook image (docker/notebook/) on Python ${notebookPythons.join(', ')}, x86_64 and aarch64; the packages the`,
      '# data libraries share are pinned as in python-libs-*.txt. Written by scripts/ci/pypi-lock.ts; do not edit.',
    ]
    writeFileSync(join(dockerDir, 'notebook', 'pypi-lock.txt'), `${[...header, ...(await notebookLock(scratch))].join('\n')}\n`)
    console.log('wrote docker/notebook/pypi-lock.txt')
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
})
