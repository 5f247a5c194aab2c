// Grounds made while other suites run. Vitest runs every project's global setup before the first
// test file, so a setup that built its ground (Kubernetes from source: ~15 min cold) would hold up
// the whole run. Instead a setup registers the work here and returns; the root setup
// (test/grounds-start.ts, which vitest runs after every project's) starts it; the suite that needs
// a ground waits for it in beforeAll while the suites ordered before it run (vitest.config.ts).
// One piece at a time, by `order`: the grounds share builds (Kubernetes binaries, the minikube
// module) that must not be made twice at once, and the first suite to need one comes first.
import { mkdtempSync } from 'node:fs'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { errorMessage } from '../scripts/lib/errors.ts'
import { sleep } from '../scripts/lib/poll.ts'

interface Pending {
  order: number
  run: () => Promise<void>
}

// On globalThis: vitest loads each project's global setup in a module graph of its own.
const shared = globalThis as typeof globalThis & { sparkStandaloneGrounds?: { pending: Pending[]; statusDir: string } }
const grounds = () => (shared.sparkStandaloneGrounds ??= { pending: [], statusDir: mkdtempSync(join(tmpdir(), 'ssk8s-grounds-')) })

export interface Background<T> {
  /** Where the outcome is written for the suites (they run in other processes). */
  statusFile: string
  /** The value, or undefined when the work failed (its error is in the status file). */
  done: Promise<T | undefined>
}

interface Status {
  ok: boolean
  error?: string
}

/** Registers `prepare` to run in the background, after the work of lower `order`. */
export function inBackground<T>(name: string, order: number, prepare: () => Promise<T>): Background<T> {
  const { pending, statusDir } = grounds()
  const statusFile = join(statusDir, `${name}.json`)
  const write = (status: Status) => writeFile(statusFile, JSON.stringify(status))
  let settle!: (value: T | undefined) => void
  const done = new Promise<T | undefined>((resolve) => (settle = resolve))
  const run = () =>
    prepare().then(
      async (value) => {
        await write({ ok: true })
        settle(value)
      },
      async (error: unknown) => {
        console.error(`[${name}] the ground could not be made: ${errorMessage(error)}`)
        await write({ ok: false, error: errorMessage(error) })
        settle(undefined)
      },
    )
  pending.push({ order, run })
  return { statusFile, done }
}

/** Runs what the setups registered, one at a time by order; returns at once, with a cleanup for the end of the run. */
export function startGrounds(): () => Promise<void> {
  const { pending, statusDir } = grounds()
  const queue = pending.splice(0).sort((a, b) => a.order - b.order)
  const all = queue.reduce<Promise<void>>((previous, next) => previous.then(next.run), Promise.resolve())
  return async () => {
    await all
    await rm(statusDir, { recursive: true, force: true })
  }
}

/** Waits until the ground behind `statusFile` is made; throws its error when it could not be. */
export async function groundReady(statusFile: string, what: string): Promise<void> {
  for (;;) {
    const text = await readFile(statusFile, 'utf8').catch(() => undefined)
    if (text) {
      const status = JSON.parse(text) as Status
      if (status.ok) return
      throw new Error(`${what} could not be made: ${status.error}`)
    }
    await sleep(2_000)
  }
}
