import { randomBytes } from 'node:crypto'
import type { V1Volume, V1VolumeMount } from '@kubernetes/client-node'
import { mainContainer, type ClusterManifests } from './manifests.ts'

/**
 * Every Spark process of the cluster (master, workers, the drivers the tool starts) reads its RPC
 * settings from a spark-defaults.conf that the pod templates mount from one Secret volume. The
 * file holds the cluster's shared secret, so it is made here, at run time, and never enters git,
 * a command line or an env var: on Kubernetes a Secret, on Docker a volume of that name.
 */
export interface AuthVolume {
  /** The Secret's name on Kubernetes, the volume's name on Docker (the manifests' secretName). */
  name: string
  /** The file inside it, as SPARK_CONF_DIR expects. */
  file: string
  mountPath: string
}

export const authConfFile = 'spark-defaults.conf'

/** The Secret volume the master's pod template mounts: the manifests name it, code never retypes it. */
export function authVolume(manifests: ClusterManifests): AuthVolume {
  const pod = manifests.master.spec!.template.spec!
  const volume = pod.volumes?.find((v: V1Volume) => v.secret?.secretName)
  const mount = mainContainer(manifests.master).volumeMounts?.find((m: V1VolumeMount) => m.name === volume?.name)
  if (!volume || !mount) throw new Error('the master pod template mounts no Secret volume for its spark-defaults.conf')
  return { name: volume.secret!.secretName!, file: authConfFile, mountPath: mount.mountPath }
}

const connectTokenKey = 'spark.connect.authenticate.token'

const randomHex = () => randomBytes(32).toString('hex')

/**
 * RPC authentication with a 256-bit shared secret, and AES encryption of all RPC traffic with no
 * fallback to the older SASL scheme (Spark's "network crypto"). Plus the token Spark Connect
 * clients must present: a second random value, so the one a laptop holds is not the RPC secret.
 */
export function sparkAuthConf(secret: string = randomHex(), connectToken: string = randomHex()): string {
  return ['spark.authenticate true', `spark.authenticate.secret ${secret}`, 'spark.network.crypto.enabled true', 'spark.network.crypto.saslFallback false', `${connectTokenKey} ${connectToken}`, ''].join('\n')
}

/** A conf made before Spark Connect was offered gets its token; the RPC secret stays. */
export function withConnectToken(conf: string): string {
  return connectTokenOf(conf) ? conf : `${conf.replace(/\n*$/, '\n')}${connectTokenKey} ${randomHex()}\n`
}

/** The token a Spark Connect client must send (sc://…/;token=…). */
export function connectTokenOf(conf: string): string | undefined {
  return /^spark\.connect\.authenticate\.token\s+(\S+)$/m.exec(conf)?.[1]
}

/** The secret in a spark-defaults.conf made by sparkAuthConf (for tests that look for leaks). */
export function secretOf(conf: string): string | undefined {
  return /^spark\.authenticate\.secret\s+(\S+)$/m.exec(conf)?.[1]
}
