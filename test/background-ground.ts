// Grounds made while other suites run. Vitest runs every project's global setup before the first
// test file, so a setup that built its ground (Kubernetes from source: ~15 min cold) would hold up
// the whole run. Instead a setup queues the work here and returns; the suite that needs the ground
// waits for it in beforeAll, while the suites ordered before it (test/sequencer.ts) run. The work
// runs one piece at a time, in the order queued: the grounds share builds (Kubernetes binaries, the
// minikube module), which must not be made twice at once.
import { mkdtempSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { errorMessage } from '../scripts/lib/errors.ts'
import { sleep } from '../scripts/lib/poll.ts'

// On globalThis: vitest loads each project's global setup in a module graph of its own, so a
// module-level queue would be one per project, and the grounds would build side by side.
const shared = globalThis as typeof globalThis & { sparkStandaloneGrounds?: { queue: Promise<unknown>; statusDir: string } }

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

/** Queues `prepare`; returns at once. */
export function inBackground<T>(name: string, prepare: () => Promise<T>): Background<T> {
  const grounds = (shared.sparkStandaloneGrounds ??= { queue: Promise.resolve(), statusDir: mkdtempSync(join(tmpdir(), 'ssk8s-grounds-')) })
  const statusFile = join(grounds.statusDir, `${name}.json`)
  const write = (status: Status) => writeFile(statusFile, JSON.stringify(status))
  const done = grounds.queue.then(prepare).then(
    async (value) => (await write({ ok: true }), value),
    async (error: unknown) => {
      console.error(`[${name}] the ground could not be made: ${errorMessage(error)}`)
      await write({ ok: false, error: errorMessage(error) })
      return undefined
    },
  )
  grounds.queue = done
  return { statusFile, done }
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
