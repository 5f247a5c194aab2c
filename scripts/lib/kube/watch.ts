import type { Kube } from './kube.ts'

/** The least time between two checks, however often the watched objects change. */
const minimumGapMs = 100

/** Paces a wait on the cluster: `pause` ends at the first change after it began, or after `ms`. */
export interface ChangeFeed {
  pause(ms: number): Promise<void>
  close(): void
}

/** A collection to watch: its API path in the namespace (e.g. `apis/apps/v1`, `deployments`) and a selector. */
export interface WatchedCollection {
  group: string
  resource: string
  labelSelector?: string
  fieldSelector?: string
}

/**
 * Watches collections in a namespace, so a wait re-checks the moment something changes there,
 * as kubectl's own waits (rollout status, wait, delete --wait) do, instead of up to a poll
 * interval later. The poll's interval stays as the fallback: a watch that is refused (no `watch`
 * right) or dropped only makes the wait as slow as a poll, never wrong.
 */
export function watchChanges(kube: Kube, namespace: string, collections: WatchedCollection[]): ChangeFeed {
  let wake: (() => void) | undefined
  // A change while no pause was running: the next pause ends at once.
  let missed = false
  const changed = () => (wake ? wake() : (missed = true))
  const watches = collections.map(({ group, resource, labelSelector, fieldSelector }) =>
    new kube.k8s.Watch(kube.config)
      .watch(`/${group}/namespaces/${namespace}/${resource}`, { labelSelector, fieldSelector }, changed, () => undefined)
      .catch(() => undefined),
  )
  return {
    pause(ms) {
      if (missed) {
        missed = false
        return Promise.resolve()
      }
      const started = Date.now()
      return new Promise((resolve) => {
        const end = () => {
          clearTimeout(timer)
          wake = undefined
          resolve()
        }
        const timer = setTimeout(end, ms)
        // A busy namespace must not turn the wait into a busy loop on the API server.
        wake = () => void setTimeout(end, Math.max(0, started + minimumGapMs - Date.now()))
      })
    },
    close() {
      for (const watch of watches) void watch.then((controller) => controller?.abort())
    },
  }
}
