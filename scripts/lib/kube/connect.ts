import { waitForDeployments } from './rollout.ts'
import type { ConnectServer } from '../connect-server.ts'
import { applyToKubernetes } from './apply.ts'
import { withAuthConf } from '../cluster-secret.ts'
import { liveAuthConf } from './secret.ts'
import { connectPort, ourLabels, podsOf, renderConnect, selectorOf } from '../manifests.ts'
import { forwardToPods, forwardWithFallback } from './port-forward.ts'
import type { Target } from '../target.ts'

/** Kubernetes (minikube too): server-side apply of manifests/connect/, reached through a port-forward like `npm run ui`. */
export function kubeConnect(target: Target): ConnectServer {
  const namespace = target.config.namespace
  const { deployment } = target.manifests.connect
  const port = connectPort(target.manifests)
  const forward = async (localPort: number) =>
    forwardToPods(await target.kube(), {
      namespace,
      selector: podsOf(deployment),
      containerPort: port,
      localPort,
      what: 'Spark Connect server',
      scheme: 'sc',
    })
  return {
    apply: async (image, authConf) => {
      const rendered = renderConnect(target.manifests, { image, namespace })
      return applyToKubernetes(await target.kube(), [withAuthConf(rendered.deployment, authConf), rendered.service], namespace)
    },
    waitReady: async (onProgress) => waitForDeployments(await target.kube(), namespace, [deployment.metadata!.name!], selectorOf(ourLabels(target.manifests)), target.config.timeoutSeconds * 1000, onProgress),
    authConf: async () => liveAuthConf(await target.kube(), target.manifests, namespace),
    reach: async (localPort) => forwardWithFallback(forward, localPort, port),
  }
}
