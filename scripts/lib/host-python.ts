// Kept apart from python-version.ts, which the flag parser loads: --help spawns no process.
import { execFileSync } from 'node:child_process'

let hostPython: string | undefined | null = null

/** The minor version of `python3` on PATH (what a laptop's client most likely runs), or undefined without one. */
export function hostPythonVersion(): string | undefined {
  if (hostPython !== null) return hostPython
  try {
    const printed = execFileSync('python3', ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8', timeout: 5_000, stdio: ['ignore', 'pipe', 'ignore'] })
    hostPython = /^\d+\.\d+$/.test(printed.trim()) ? printed.trim() : undefined
  } catch {
    hostPython = undefined
  }
  return hostPython
}
