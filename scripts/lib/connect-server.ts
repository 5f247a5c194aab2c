import { withAuthConf } from './cluster-secret.ts'
import { podTemplate, renderServer } from './manifests.ts'
import type { StepOutcome } from './outcome.ts'
import type { ClusterServer } from './server.ts'
import { withStorage, type ClusterStorage } from './storage.ts'
import type { Target } from './target.ts'

/**
 * The cluster's Spark Connect server (manifests/connect/): a Deployment + ClusterIP Service reached
 * by port-forward on Kubernetes, a container published on loopback on Docker.
 */
export interface ConnectServer extends Omit<ClusterServer, 'apply'> {
  /** Creates or updates the server to run the cluster's image with its conf and storage (restarted when that changed); leaves a matching one alone. */
  apply(image: string, authConf: string, storage: ClusterStorage): Promise<StepOutcome>
  /** The cluster's spark-defaults.conf, which holds the token clients must send (undefined: there is none). */
  authConf(image: string): Promise<string | undefined>
}

export function connectServer(target: Target): ConnectServer {
  const server = target.runtime.server({ manifests: target.manifests.connect, what: 'Spark Connect server', scheme: 'sc' })
  return {
    apply: (image, authConf, storage) => {
      const rendered = renderServer(target.manifests.connect, { image, namespace: target.config.namespace })
      withStorage(podTemplate(withAuthConf(rendered.deployment, authConf)), storage)
      return server.apply(rendered)
    },
    waitReady: (onProgress) => server.waitReady(onProgress),
    reach: (port) => server.reach(port),
    authConf: (image) => target.runtime.authConf(image),
  }
}
