import type { V1Secret } from '@kubernetes/client-node'
import { authVolume, sparkAuthConf, withConnectToken } from './cluster-secret.ts'
import { StepError } from './errors.ts'
import { isNotFound, type Kube } from './kube.ts'
import { ourLabels, type ClusterManifests } from './manifests.ts'

/**
 * The cluster's Secret as it should be applied: the live one's spark-defaults.conf when there is
 * one (a second `cluster:up` keeps the secret, and changes nothing; one made before Spark Connect
 * gains its token), a new random one otherwise.
 * A same-named Secret that is not ours is left for apply to refuse.
 */
export async function declaredAuthSecret(kube: Kube, manifests: ClusterManifests, namespace: string): Promise<V1Secret> {
  const { name, file } = authVolume(manifests)
  const live = await kube.core.readNamespacedSecret({ name, namespace }).catch((error: unknown) => {
    if (isNotFound(error)) return undefined
    throw error
  })
  const liveConf = live?.data?.[file]
  const kept = liveConf && Buffer.from(withConnectToken(Buffer.from(liveConf, 'base64').toString())).toString('base64')
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels: { ...ourLabels(manifests), role: 'auth' } },
    type: 'Opaque',
    data: { [file]: kept ?? Buffer.from(sparkAuthConf()).toString('base64') },
  }
}

/** The cluster's spark-defaults.conf as the live Secret holds it. */
export async function liveAuthConf(kube: Kube, manifests: ClusterManifests, namespace: string): Promise<string> {
  const { name, file } = authVolume(manifests)
  const secret = await kube.core.readNamespacedSecret({ name, namespace }).catch((error: unknown) => {
    throw isNotFound(error) ? new StepError(`no Secret ${name} in namespace ${namespace}: run \`npm run cluster:up\` first`) : error
  })
  return Buffer.from(secret.data?.[file] ?? '', 'base64').toString()
}
