/** The deadline of pollUntil passed: the one failure a caller may want to tell from the others. */
export class TimeoutError extends Error {}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * How long a check begun at (or just before) the deadline may still take: a wait whose goal was
 * reached must not fail at the margin, and a hung one must not outlast the deadline by more.
 */
export const lastCheckGraceMs = 5_000

/** Checks until `check` returns a value; throws with its last reason at the deadline, also when a check hangs there. */
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
  const timedOut = (reason: string) => new TimeoutError(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}: ${reason}`)
  let last: string | undefined
  for (;;) {
    const result = await answeredBy(check(), Math.max(deadline, Date.now() + lastCheckGraceMs), () =>
      timedOut(`a check got no answer in time${last ? ` (the one before: ${last})` : ''}`),
    )
    if ('done' in result) return result.done
    last = result.waiting
    onProgress?.(result.waiting)
    if (Date.now() >= deadline) throw timedOut(result.waiting)
    await pause(intervalMs)
  }
}

/** `pending`, or `late()` thrown at `by`: a call that never returns (an API server that accepts and never answers) cannot hold a wait. */
function answeredBy<T>(pending: Promise<T>, by: number, late: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), Math.max(0, by - Date.now()))
  })
  // race() also handles a rejection of `pending` that comes after the deadline.
  return Promise.race([pending, expired]).finally(() => clearTimeout(timer))
}
