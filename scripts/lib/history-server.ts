import { podTemplate, renderServer, type ServerManifests } from './manifests.ts'
import type { ClusterServer } from './server.ts'
import { withStorage, type ClusterStorage } from './storage.ts'
import type { Target } from './target.ts'

export interface HistoryServer extends ClusterServer {
  /** Its Deployment and Service on the cluster's image, reading the event logs where its drivers write them. */
  render(image: string, storage: ClusterStorage): ServerManifests
}

/** The Spark History Server (manifests/history/), on whatever the cluster runs. */
export function historyServer(target: Target): HistoryServer {
  const server = target.runtime.server({ manifests: target.manifests.history, what: 'History Server', scheme: 'http' })
  return {
    ...server,
    render: (image, storage) => {
      const rendered = renderServer(target.manifests.history, { image, namespace: target.config.namespace })
      // It only reads: the data (where its logs may be) read-only, as its event-log mount is.
      withStorage(podTemplate(rendered.deployment), storage, { readOnly: true })
      return rendered
    },
  }
}
