import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { linuxWheelFits, parsePins, pythonMarker } from '../../scripts/ci/pypi-lock.ts'
import { dockerDir } from '../../scripts/lib/paths.ts'

const pythons = ['3.10', '3.11', '3.12', '3.13']

describe('scripts/ci/pypi-lock.ts', () => {
  it('keeps the wheels pip may pick on Linux x86_64/aarch64 for the Pythons asked: pure, that CPython, or abi3 from its version on', () => {
    expect(linuxWheelFits('six-1.17.0-py2.py3-none-any.whl', '1.17.0', pythons)).toBe(true)
    expect(linuxWheelFits('pyzmq-27.3.0-cp312-abi3-manylinux_2_26_aarch64.manylinux_2_28_aarch64.whl', '27.3.0', pythons)).toBe(true)
    expect(linuxWheelFits('pyzmq-27.3.0-cp312-abi3-manylinux_2_26_aarch64.whl', '27.3.0', ['3.10', '3.11'])).toBe(false)
    expect(linuxWheelFits('cffi-2.1.1-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl', '2.1.1', pythons)).toBe(true)
    expect(linuxWheelFits('cffi-2.1.1-cp313-cp313-manylinux2014_x86_64.whl', '2.1.1', ['3.10', '3.11'])).toBe(false)
    expect(linuxWheelFits('cffi-2.1.1-cp313-cp313-musllinux_1_2_x86_64.whl', '2.1.1', pythons)).toBe(false)
    expect(linuxWheelFits('cffi-2.1.1-cp313-cp313-win_amd64.whl', '2.1.1', pythons)).toBe(false)
    expect(linuxWheelFits('cffi-2.1.1-cp313-cp313-macosx_11_0_arm64.whl', '2.1.1', pythons)).toBe(false)
    expect(linuxWheelFits('cffi-2.1.1-cp313-cp313t-manylinux2014_x86_64.whl', '2.1.1', pythons)).toBe(false)
    expect(linuxWheelFits('numpy-2.2.6-cp311-cp311-manylinux_2_17_x86_64.whl', '2.2.5', pythons)).toBe(false)
    expect(linuxWheelFits('cffi-2.1.1.tar.gz', '2.1.1', pythons)).toBe(false)
  })

  it("reads uv's pins, and refuses two versions of one package", () => {
    expect([...parsePins("anyio==4.16.0\ntomli==2.5.0 ; python_full_version < '3.11'\n# comment\n")]).toEqual([['anyio', '4.16.0'], ['tomli', '2.5.0']])
    expect(() => parsePins('ipykernel==7.3.0 ; x\nipykernel==7.4.0 ; y\n')).toThrow(/two versions of ipykernel/)
  })

  it('limits a package to the Pythons that need it, and not at all when every one does', () => {
    expect(pythonMarker(pythons, pythons)).toBe('')
    expect(pythonMarker(['3.10', '3.11'], pythons)).toBe('python_version == "3.10" or python_version == "3.11"')
  })
})

describe('docker/notebook/pypi-lock.txt', () => {
  const lock = readFileSync(join(dockerDir, 'notebook', 'pypi-lock.txt'), 'utf8')
  const entries = lock.trimEnd().split(/\n(?=[a-z])/).filter((entry) => /^[a-z]/.test(entry))

  it('pins jupyterlab, ipykernel and everything they need, each by sha256', () => {
    for (const name of ['jupyterlab', 'ipykernel', 'jupyter-server', 'pyzmq', 'tornado']) expect(lock).toMatch(new RegExp(`^${name}==[\\w.]+ \\\\$`, 'm'))
    expect(entries.length).toBeGreaterThan(50)
    for (const entry of entries) expect(entry, entry.split(' ')[0]).toMatch(/^[\w.-]+==[\w.]+( ; [^\\]+)? \\\n(\s+--hash=sha256:[0-9a-f]{64}( \\\n)?)+$/)
  })

  it('has the versions of the data libraries’ locks where they share a package, so installing it moves none of them', () => {
    for (const file of ['python-libs-spark4.txt', 'python-libs-spark3.5.txt']) {
      const libs = readFileSync(join(dockerDir, 'pypi-lock', file), 'utf8')
      for (const [, name, version] of libs.matchAll(/^([\w.-]+)==([\w.]+)/gm)) {
        const shared = new RegExp(`^${name}==([\\w.]+)`, 'm').exec(lock)
        if (shared) expect(shared[1], `${name} in ${file}`).toBe(version)
      }
    }
    expect(lock).toMatch(/^python-dateutil==/m)
    expect(lock).toMatch(/^six==/m)
  })
})
