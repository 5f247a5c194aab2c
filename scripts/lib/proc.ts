import { $, which } from 'zx'

/** zx with the output kept off the terminal (listr2 owns it); callers add cwd/env as needed. */
export const run = $({ quiet: true })

/** True when `name` is on PATH. */
export async function onPath(name: string): Promise<boolean> {
  return (await which(name, { nothrow: true })) !== null
}

/** Runs a command and reports success instead of throwing (for probes like `docker info`). */
export async function succeeds(command: string, args: string[], timeoutMs = 15_000): Promise<boolean> {
  const result = await run({ nothrow: true, timeout: timeoutMs })`${command} ${args}`
  return result.exitCode === 0
}
