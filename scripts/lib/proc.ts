import { createRequire } from 'node:module'
import type * as Zx from 'zx/core'

// zx is loaded by a command's first process, not at start-up: --help and a rejected flag never need it.
let zx: typeof Zx | undefined
const loadZx = () => (zx ??= createRequire(import.meta.url)('zx/core') as typeof Zx)
let quietShell: Zx.Shell | undefined
const shell = (): Zx.Shell => (quietShell ??= loadZx().$<{ quiet: true }, Zx.Shell>({ quiet: true }))

/** zx with the output kept off the terminal (listr2 owns it); callers add cwd/env as needed. */
export const run = ((...args: Parameters<Zx.Shell>) => shell()(...args)) as Zx.Shell

/** True when `name` is on PATH. */
export async function onPath(name: string): Promise<boolean> {
  return (await loadZx().which(name, { nothrow: true })) !== null
}

/** Runs a command and reports success instead of throwing (for probes like `docker info`). */
export async function succeeds(command: string, args: string[], timeoutMs = 15_000): Promise<boolean> {
  const result = await run({ nothrow: true, timeout: timeoutMs })`${command} ${args}`
  return result.exitCode === 0
}
