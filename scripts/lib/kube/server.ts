import { ourLabels, podsOf, selectorOf, serverPort } from '../manifests.ts'
import type { ClusterServer, ServerSpec } from '../server.ts'
import type { Target } from '../target.ts'
import { applyToKubernetes } from './apply.ts'
import { isNotFound } from './kube.ts'
import { podImageOf, type PodImages } from './pod-image.ts'
import { forwardWithFallback } from '../serve.ts'
import { forwardToPods } from './port-forward.ts'
import { waitForDeployments } from './rollout.ts'

/** Kubernetes (minikube too): server-side apply of its Deployment and Service, reached through a port-forward like `npm run ui`. */
export function kubeServer(target: Target, { manifests, what, scheme }: ServerSpec, images: PodImages): ClusterServer {
  const namespace = target.config.namespace
  const port = serverPort(manifests)
  const forward = async (localPort: number) =>
    forwardToPods(await target.kube(), { namespace, selector: podsOf(manifests.deployment), containerPort: port, localPort, what, scheme })
  const name = manifests.deployment.metadata!.name!
  return {
    what,
    // A Deployment scaled to 0 by hand is one someone stopped: it stays so.
    running: async () => {
      const live = await (await target.kube()).apps.readNamespacedDeployment({ name, namespace }).catch((error: unknown) => {
        if (isNotFound(error)) return undefined
        throw error
      })
      if (!live || live.spec?.replicas === 0) return undefined
      const template = live.spec!.template
      // Remembered: cluster:up re-renders a running server on the image it runs (the notebook), as its pods name it.
      return { image: images.remember(podImageOf(template)), annotations: template.metadata?.annotations ?? {} }
    },
    // Its own claims first: the pod waits for none of them.
    apply: async (rendered) => applyToKubernetes(await target.kube(), [...(rendered.claims ?? []), images.deployable(rendered.deployment), rendered.service], namespace),
    waitReady: async (onProgress) =>
      waitForDeployments(await target.kube(), namespace, [name], selectorOf(ourLabels(target.manifests)), target.config.timeoutSeconds * 1000, onProgress),
    reach: async (localPort) => forwardWithFallback(forward, localPort, port),
  }
}
