/** The deadline of pollUntil passed: the one failure a caller may want to tell from the others. */
export class TimeoutError extends Error {}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Checks until `check` returns a value; throws with its last reason at the deadline. */
export async function pollUntil<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<{ done: T } | { waiting: string }>,
  onProgress?: (reason: string) => void,
  intervalMs = 1_000,
  /** How to wait between checks: a fixed sleep, or a pause a change can end early (kube/watch.ts). */
  pause: (ms: number) => Promise<void> = sleep,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const result = await check()
    if ('done' in result) return result.done
    onProgress?.(result.waiting)
    if (Date.now() >= deadline) throw new TimeoutError(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}: ${result.waiting}`)
    await pause(intervalMs)
  }
}
