import { ourLabels, podsOf, selectorOf, serverPort } from '../manifests.ts'
import type { ClusterServer, ServerSpec } from '../server.ts'
import type { Target } from '../target.ts'
import { applyToKubernetes } from './apply.ts'
import { forwardWithFallback } from '../serve.ts'
import { forwardToPods } from './port-forward.ts'
import { waitForDeployments } from './rollout.ts'

/** Kubernetes (minikube too): server-side apply of its Deployment and Service, reached through a port-forward like `npm run ui`. */
export function kubeServer(target: Target, { manifests, what, scheme }: ServerSpec): ClusterServer {
  const namespace = target.config.namespace
  const port = serverPort(manifests)
  const forward = async (localPort: number) =>
    forwardToPods(await target.kube(), { namespace, selector: podsOf(manifests.deployment), containerPort: port, localPort, what, scheme })
  return {
    apply: async (rendered) => applyToKubernetes(await target.kube(), [rendered.deployment, rendered.service], namespace),
    waitReady: async (onProgress) =>
      waitForDeployments(await target.kube(), namespace, [manifests.deployment.metadata!.name!], selectorOf(ourLabels(target.manifests)), target.config.timeoutSeconds * 1000, onProgress),
    reach: async (localPort) => forwardWithFallback(forward, localPort, port),
  }
}
