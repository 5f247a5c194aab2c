import type { V1Secret } from '@kubernetes/client-node'
import { authVolume, sparkAuthConf } from './cluster-secret.ts'
import { isNotFound, type Kube } from './kube.ts'
import { ourLabels, type ClusterManifests } from './manifests.ts'

/**
 * The cluster's Secret as it should be applied: the live one's spark-defaults.conf when there is
 * one (a second `cluster:up` keeps the secret, and changes nothing), a new random one otherwise.
 * A same-named Secret that is not ours is left for apply to refuse.
 */
export async function declaredAuthSecret(kube: Kube, manifests: ClusterManifests, namespace: string): Promise<V1Secret> {
  const { name, file } = authVolume(manifests)
  const live = await kube.core.readNamespacedSecret({ name, namespace }).catch((error: unknown) => {
    if (isNotFound(error)) return undefined
    throw error
  })
  const kept = live?.data?.[file]
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels: { ...ourLabels(manifests), role: 'auth' } },
    type: 'Opaque',
    data: { [file]: kept ?? Buffer.from(sparkAuthConf()).toString('base64') },
  }
}
