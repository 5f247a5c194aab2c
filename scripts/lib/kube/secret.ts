import type { V1Secret } from '@kubernetes/client-node'
import { authVolume, plannedAuthConf, type AuthSettings, type PlannedAuthConf } from '../cluster-secret.ts'
import { StepError } from '../errors.ts'
import { isNotFound, type Kube } from './kube.ts'
import { ourLabels, type ClusterManifests } from '../manifests.ts'

export interface DeclaredAuthSecret extends PlannedAuthConf {
  secret: V1Secret
}

async function readSecret(kube: Kube, name: string, namespace: string): Promise<V1Secret | undefined> {
  return kube.core.readNamespacedSecret({ name, namespace }).catch((error: unknown) => {
    if (isNotFound(error)) return undefined
    throw error
  })
}

/**
 * The cluster's Secret as it should be applied: the live one's secret and token with today's
 * settings (a second `cluster:up` changes nothing), a new random one where there is none, and a
 * repaired one where the live Secret holds no usable conf (empty, say: pods would start without
 * authentication). A same-named Secret that is not ours is left for apply to refuse.
 */
export async function declaredAuthSecret(kube: Kube, manifests: ClusterManifests, namespace: string, settings: AuthSettings): Promise<DeclaredAuthSecret> {
  const { name, file } = authVolume(manifests)
  const live = await readSecret(kube, name, namespace)
  const liveConf = live?.data?.[file]
  const planned = plannedAuthConf(live && { conf: liveConf === undefined ? undefined : Buffer.from(liveConf, 'base64').toString() }, settings)
  return {
    ...planned,
    secret: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace, labels: { ...ourLabels(manifests), role: 'auth' } },
      type: 'Opaque',
      data: { [file]: Buffer.from(planned.conf).toString('base64') },
    },
  }
}

/** The cluster's spark-defaults.conf as the live Secret holds it (undefined: the Secret holds none). */
export async function liveAuthConf(kube: Kube, manifests: ClusterManifests, namespace: string): Promise<string | undefined> {
  const { name, file } = authVolume(manifests)
  const secret = await readSecret(kube, name, namespace)
  if (!secret) throw new StepError(`no Secret ${name} in namespace ${namespace}: run \`npm run cluster:up\` first`)
  const conf = secret.data?.[file]
  return conf === undefined ? undefined : Buffer.from(conf, 'base64').toString()
}
