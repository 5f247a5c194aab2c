// watchChanges with client-node's Watch faked: a change ends a pause early (never sooner than the
// least gap), a change while nobody waits ends the next pause at once, a refused watch leaves the
// interval, and close aborts every watch.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Kube } from '../../scripts/lib/kube/kube.ts'
import { watchChanges } from '../../scripts/lib/kube/watch.ts'

function fakeKube(refuse = false) {
  const watches: Array<{ path: string; query: Record<string, unknown>; change: () => void; controller: AbortController }> = []
  class Watch {
    async watch(path: string, query: Record<string, unknown>, change: () => void): Promise<AbortController> {
      if (refuse) throw Object.assign(new Error('Forbidden'), { statusCode: 403 })
      const controller = new AbortController()
      watches.push({ path, query, change, controller })
      return controller
    }
  }
  return { kube: { k8s: { Watch }, config: {} } as unknown as Kube, watches }
}

/** Whether `promise` has settled, after letting pending callbacks run. */
async function settled(promise: Promise<void>): Promise<boolean> {
  let done = false
  void promise.then(() => (done = true))
  await vi.advanceTimersByTimeAsync(0)
  return done
}

/** A pause still running `ms` - 1 ms from now, and over at `ms`. */
async function expectEndsIn(pause: Promise<void>, ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms - 1)
  expect(await settled(pause)).toBe(false)
  await vi.advanceTimersByTimeAsync(1)
  expect(await settled(pause)).toBe(true)
}

/** A feed on pods, its watch started. */
async function watchingPods(refuse = false) {
  const { kube, watches } = fakeKube(refuse)
  const feed = watchChanges(kube, 'spark', [{ group: 'api/v1', resource: 'pods' }])
  if (!refuse) await vi.waitFor(() => expect(watches).toHaveLength(1))
  return { feed, watches }
}

describe('watchChanges', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('watches each collection in the namespace with its selectors', async () => {
    const { kube, watches } = fakeKube()
    const feed = watchChanges(kube, 'spark', [
      { group: 'apis/apps/v1', resource: 'deployments', labelSelector: 'app=spark' },
      { group: 'apis/batch/v1', resource: 'jobs', fieldSelector: 'metadata.name=pi' },
    ])
    await vi.waitFor(() => expect(watches).toHaveLength(2))
    expect(watches.map((w) => [w.path, w.query])).toEqual([
      ['/apis/apps/v1/namespaces/spark/deployments', { labelSelector: 'app=spark', fieldSelector: undefined }],
      ['/apis/batch/v1/namespaces/spark/jobs', { labelSelector: undefined, fieldSelector: 'metadata.name=pi' }],
    ])
    feed.close()
    await vi.waitFor(() => expect(watches.every((w) => w.controller.signal.aborted)).toBe(true))
  })

  it('ends a pause at the first change, but not sooner than 100 ms after it began', async () => {
    const { feed, watches } = await watchingPods()
    const pause = feed.pause(5_000)
    await vi.advanceTimersByTimeAsync(40)
    watches[0].change()
    await expectEndsIn(pause, 60)
    feed.close()
  })

  it('ends the next pause at once after a change nobody was waiting for, and only that one', async () => {
    const { feed, watches } = await watchingPods()
    watches[0].change()
    expect(await settled(feed.pause(5_000))).toBe(true)
    await expectEndsIn(feed.pause(1_000), 1_000)
    feed.close()
  })

  it('falls back to the interval when the watch is refused', async () => {
    const { feed } = await watchingPods(true)
    await expectEndsIn(feed.pause(1_000), 1_000)
    feed.close()
  })
})
