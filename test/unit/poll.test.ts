// A wait ends at its deadline even when one of its checks never returns (an API server that accepts
// the connection and never answers). On fake timers: no real seconds pass.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { lastCheckGraceMs, pollUntil, TimeoutError } from '../../scripts/lib/poll.ts'

const never = () => new Promise<never>(() => {})

beforeEach(() => void vi.useFakeTimers())
afterEach(() => void vi.useRealTimers())

/** What `waiting` settles to once `ms` of fake time have passed. */
async function after<T>(ms: number, waiting: Promise<T>): Promise<PromiseSettledResult<T>> {
  const settled = Promise.allSettled([waiting]).then(([result]) => result)
  await vi.advanceTimersByTimeAsync(ms)
  return settled
}

describe('pollUntil', () => {
  it('gives up at the deadline on a check that hangs, with the reason the check before it gave', async () => {
    let calls = 0
    const wait = pollUntil('rollout', 10_000, async () => (++calls === 1 ? { waiting: 'spark-master: 0 of 1 updated replicas available' } : never()))
    const result = await after(10_000, wait)
    expect(result.status).toBe('rejected')
    const error = (result as PromiseRejectedResult).reason as Error
    expect(error).toBeInstanceOf(TimeoutError)
    expect(error.message).toBe('timed out after 10 s waiting for rollout: a check got no answer in time (the one before: spark-master: 0 of 1 updated replicas available)')
  })

  it('a first check that hangs ends the wait at the deadline too', async () => {
    const result = await after(60_000, pollUntil('containers running', 60_000, never))
    expect((result as PromiseRejectedResult).reason).toEqual(new TimeoutError('timed out after 60 s waiting for containers running: a check got no answer in time'))
  })

  it('a check begun at the deadline still gets its grace to answer, and no more', async () => {
    let calls = 0
    // The second check starts after the deadline (the pause is longer than the whole wait) and answers within the grace.
    const answers = pollUntil('workers', 100, async () => (++calls === 1 ? { waiting: 'one worker' } : new Promise<{ done: string }>((resolve) => setTimeout(() => resolve({ done: 'two workers' }), lastCheckGraceMs - 1))), undefined, 250)
    expect(await after(250 + lastCheckGraceMs, answers)).toEqual({ status: 'fulfilled', value: 'two workers' })
    calls = 0
    const hangs = pollUntil('workers', 100, async () => (++calls === 1 ? { waiting: 'one worker' } : never()), undefined, 250)
    expect((await after(250 + lastCheckGraceMs, hangs)).status).toBe('rejected')
  })
})
