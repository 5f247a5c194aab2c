import { podTemplate, renderServer } from './manifests.ts'
import type { StepOutcome } from './outcome.ts'
import type { ClusterServer } from './server.ts'
import { withStorage, type ClusterStorage } from './storage.ts'
import type { Target } from './target.ts'

export interface HistoryServer extends Omit<ClusterServer, 'apply'> {
  /** Creates or updates the server to run the cluster's image, reading the event logs where its drivers write them. */
  apply(image: string, storage: ClusterStorage): Promise<StepOutcome>
}

/** The Spark History Server (manifests/history/), on whatever the cluster runs. */
export function historyServer(target: Target): HistoryServer {
  const server = target.runtime.server({ manifests: target.manifests.history, what: 'History Server', scheme: 'http' })
  return {
    apply: (image, storage) => {
      const rendered = renderServer(target.manifests.history, { image, namespace: target.config.namespace })
      // It only reads: the data (where its logs may be) read-only, as its event-log mount is.
      withStorage(podTemplate(rendered.deployment), storage, { readOnly: true })
      return server.apply(rendered)
    },
    waitReady: (onProgress) => server.waitReady(onProgress),
    reach: (port) => server.reach(port),
  }
}
