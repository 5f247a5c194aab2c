import type { KubernetesObject, V1Deployment, V1PersistentVolumeClaim, V1StorageClass } from '@kubernetes/client-node'
import { fieldManager, isForbidden, isNotFound, type Kube } from './kube.ts'
import { podTemplate } from '../manifests.ts'

export interface RecoveryStorage {
  /** The claim to apply, or none when the master keeps its state on an emptyDir. */
  claim?: V1PersistentVolumeClaim
  master: V1Deployment
  /** Said in the apply step's outcome when the state is not on a claim. */
  note?: string
}

const defaultClassAnnotation = 'storageclass.kubernetes.io/is-default-class'

/**
 * The master keeps its recovery state on the claim when the cluster can provision it: the claim
 * exists already, or names a class, or the cluster has a default StorageClass. Otherwise a claim
 * would leave the master Pending for ever, so the state goes on an emptyDir of the claim's size,
 * which survives a crash of the master process but not a move to another node.
 */
export async function planRecoveryStorage(kube: Kube, claim: V1PersistentVolumeClaim, master: V1Deployment): Promise<RecoveryStorage> {
  const provisioning = await claimProvisioning(kube, claim)
  if (provisioning.ok) return { claim, master }
  return { master: onEmptyDir(master, claim), note: `${provisioning.why}: the master's recovery state is on an emptyDir (it survives a master crash, not a move to another node)` }
}

/** Whether the cluster can bind the claim: it exists already, or names a class, or there is a default StorageClass. */
export async function claimProvisioning(kube: Kube, claim: V1PersistentVolumeClaim): Promise<{ ok: true } | { ok: false; why: string }> {
  const header = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: claim.metadata!.name!, namespace: claim.metadata!.namespace! } }
  const live = await kube.objects.read(header).catch((error: unknown) => {
    if (isNotFound(error)) return undefined
    throw error
  })
  const provisioned = live || claim.spec?.storageClassName ? 'yes' : await hasDefaultClass(kube, claim)
  if (provisioned === 'yes') return { ok: true }
  return { ok: false, why: provisioned === 'no' ? 'no default StorageClass' : `could not tell whether there is a default StorageClass (namespace ${claim.metadata?.namespace} is new)` }
}

/**
 * Read from the StorageClasses when the user may list them; a user bound to one namespace may not,
 * and then a server-side dry run of the claim says it: admission fills in the default class, if any.
 */
async function hasDefaultClass(kube: Kube, claim: V1PersistentVolumeClaim): Promise<'yes' | 'no' | 'unknown'> {
  try {
    const { items } = await kube.objects.list<V1StorageClass>('storage.k8s.io/v1', 'StorageClass')
    return items.some((item) => item.metadata?.annotations?.[defaultClassAnnotation] === 'true') ? 'yes' : 'no'
  } catch (error) {
    if (!isForbidden(error)) throw error
  }
  try {
    const planned = (await kube.objects.patch(claim as KubernetesObject, undefined, 'All', fieldManager, true, kube.k8s.PatchStrategy.ServerSideApply)) as V1PersistentVolumeClaim
    return planned.spec?.storageClassName ? 'yes' : 'no'
  } catch (error) {
    // A namespace the run has yet to create: nothing to learn from, so take the safe side.
    if (isNotFound(error)) return 'unknown'
    throw error
  }
}

/** The master with its claim volume swapped for an emptyDir of the claim's size. */
function onEmptyDir(master: V1Deployment, claim: V1PersistentVolumeClaim): V1Deployment {
  const copy = structuredClone(master)
  const pod = podTemplate(copy).spec!
  pod.volumes = pod.volumes?.map((volume) =>
    volume.persistentVolumeClaim?.claimName === claim.metadata?.name ? { name: volume.name, emptyDir: { sizeLimit: claim.spec?.resources?.requests?.storage } } : volume,
  )
  return copy
}
