import { withAuthConf } from './cluster-secret.ts'
import { podTemplate, renderServer, type ServerManifests } from './manifests.ts'
import type { ClusterServer } from './server.ts'
import { withStorage, type ClusterStorage } from './storage.ts'
import type { Target } from './target.ts'

/**
 * The cluster's Spark Connect server (manifests/connect/): a Deployment + ClusterIP Service reached
 * by port-forward on Kubernetes, a container published on loopback on Docker.
 */
export interface ConnectServer extends ClusterServer {
  /** Its Deployment and Service on the cluster's image, with its conf (by digest: a new conf restarts it) and storage. */
  render(image: string, authConf: string, storage: ClusterStorage): ServerManifests
  /** The cluster's spark-defaults.conf, which holds the token clients must send (undefined: there is none). */
  authConf(image: string): Promise<string | undefined>
}

export function connectServer(target: Target): ConnectServer {
  const server = target.runtime.server({ manifests: target.manifests.connect, what: 'Spark Connect server', scheme: 'sc' })
  return {
    ...server,
    render: (image, authConf, storage) => {
      const rendered = renderServer(target.manifests.connect, { image, namespace: target.config.namespace })
      withStorage(podTemplate(withAuthConf(rendered.deployment, authConf)), storage)
      return rendered
    },
    authConf: (image) => target.runtime.authConf(image),
  }
}
