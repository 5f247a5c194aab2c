import type { V1PersistentVolumeClaim } from '@kubernetes/client-node'
import { prepareHostFolder } from '../data-folder.ts'
import { StepError } from '../errors.ts'
import type { ClusterStorage } from '../storage.ts'
import type { Target } from '../target.ts'
import { minikubeDataPath } from './minikube.ts'
import { isForbidden, isNotFound } from './kube.ts'
import { claimProvisioning } from './recovery.ts'

/**
 * --data on minikube: the profile's node mounts the folder (minikube start --mount-string, see
 * minikube-start.ts) and the pods mount the node's path. --data-claim anywhere: the user's claim,
 * refused when it is missing or cannot be mounted read-write by every worker. Neither: the event
 * logs go on the tool's own claim, or stay in each driver when the cluster cannot provision one.
 */
export async function prepareKubeStorage(target: Target): Promise<{ storage: ClusterStorage; note?: string }> {
  const { data, dataClaim, dataPath, namespace } = target.config
  if (data) {
    if (target.platform !== 'minikube') {
      throw new StepError(
        `--data ${data} is a folder of this machine, which a cluster's nodes cannot see`,
        '  - put the data on a PersistentVolumeClaim (ReadWriteMany when there are several nodes) and pass --data-claim NAME\n  - or use minikube or --platform docker, which mount a folder of this machine',
      )
    }
    const source = { hostPath: { path: minikubeDataPath, type: 'Directory' } }
    return { storage: { data: { source, mountPath: dataPath, what: `folder ${data}` }, groups: prepareHostFolder(data) } }
  }
  const kube = await target.kube()
  if (dataClaim) {
    const claim = await kube.core.readNamespacedPersistentVolumeClaim({ name: dataClaim, namespace }).catch((error: unknown) => {
      if (isNotFound(error)) throw new StepError(`--data-claim ${dataClaim}: there is no PersistentVolumeClaim ${dataClaim} in namespace ${namespace}`, `  - create it first (kubectl get pvc -n ${namespace} lists what there is)`)
      throw error
    })
    await requireMountableEverywhere(target, claim)
    return { storage: { data: { source: { persistentVolumeClaim: { claimName: dataClaim } }, mountPath: dataPath, what: `claim ${dataClaim}` } } }
  }
  const provisioning = await claimProvisioning(kube, { ...target.manifests.eventsClaim, metadata: { ...target.manifests.eventsClaim.metadata, namespace } })
  if (provisioning.ok) return { storage: {} }
  return { storage: { eventsOnEmptyDir: true }, note: `${provisioning.why}: event logs stay in each driver's pod (pass --data-claim for the History Server to see them)` }
}

/** Every worker mounts the claim read-write: ReadWriteMany, or ReadWriteOnce on a cluster of one node. */
async function requireMountableEverywhere(target: Target, claim: V1PersistentVolumeClaim): Promise<void> {
  const name = claim.metadata!.name!
  const modes = claim.status?.accessModes ?? claim.spec?.accessModes ?? []
  if (claim.status?.phase === 'Lost') throw new StepError(`--data-claim ${name}: the claim has lost its volume (phase Lost)`)
  if (modes.includes('ReadWriteMany')) return
  if (!modes.includes('ReadWriteOnce')) {
    throw new StepError(`--data-claim ${name} is ${modes.join(', ') || 'without an access mode'}: the master, every worker and every driver must mount it read-write at once (ReadWriteMany)`)
  }
  const nodes = await (await target.kube()).core.listNode().catch((error: unknown) => {
    if (isForbidden(error)) return undefined // a namespace-bound user: the pods' own events will say it
    throw error
  })
  const schedulable = nodes?.items.filter((node) => !node.spec?.unschedulable).length ?? 1
  if (schedulable > 1) {
    throw new StepError(
      `--data-claim ${name} is ReadWriteOnce: only pods on one node may mount it, and this cluster has ${schedulable} schedulable nodes`,
      '  - use a ReadWriteMany claim (NFS, CephFS, EFS, Azure Files, Filestore…), or a cluster of one node',
    )
  }
}
