import type { V1PersistentVolumeClaim } from '@kubernetes/client-node'
import { prepareHostFolder } from '../data-folder.ts'
import { StepError } from '../errors.ts'
import type { ClusterStorage } from '../storage.ts'
import type { Target } from '../target.ts'
import { minikubeDataPath } from './minikube.ts'
import { isForbidden, isNotFound } from './kube.ts'
import { restrictedNamespaceLabels } from './apply.ts'
import { claimProvisioning } from './recovery.ts'

/**
 * --data on minikube: the profile's node mounts the folder (minikube start --mount-string, see
 * minikube-start.ts) and the pods mount the node's path. --data-claim anywhere: the user's claim,
 * refused when it is missing or cannot be mounted read-write by every worker. Neither: the event
 * logs go on the tool's own claim, on a cluster of one node that can provision it; else none.
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
    await requireHostPathAllowed(target)
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
  // The tool's own claim is ReadWriteOnce: only a cluster of one node lets every driver (and the
  // History Server) mount it at once. Once made it stays the choice, so a node cordoned or added
  // later does not roll the cluster.
  const eventsClaim = target.manifests.eventsClaim.metadata!.name!
  const made = await kube.core.readNamespacedPersistentVolumeClaim({ name: eventsClaim, namespace }).then(() => true, (error: unknown) => {
    if (isNotFound(error) || isForbidden(error)) return false
    throw error
  })
  if (made) return { storage: {} }
  const nodes = await schedulableNodes(target)
  const off = (why: string) => ({ storage: { eventsOff: true }, note: `${why}: the drivers write no event log and no driver or executor log is kept (pass a ReadWriteMany --data-claim for the History Server to show finished applications)` })
  if (nodes === undefined) return off('these credentials may not read nodes, so whether every driver could mount a ReadWriteOnce claim is unknown')
  if (nodes > 1) return off(`${nodes} schedulable nodes and no --data-claim`)
  const provisioning = await claimProvisioning(kube, { ...target.manifests.eventsClaim, metadata: { ...target.manifests.eventsClaim.metadata, namespace } })
  return provisioning.ok ? { storage: {} } : off(provisioning.why)
}

/** The number of nodes pods may be scheduled on; undefined when these credentials may not list nodes. */
async function schedulableNodes(target: Target): Promise<number | undefined> {
  const nodes = await (await target.kube()).core.listNode().catch((error: unknown) => {
    if (isForbidden(error)) return undefined
    throw error
  })
  return nodes?.items.filter((node) => !node.spec?.unschedulable).length
}

/** PodSecurity's baseline and restricted levels forbid hostPath volumes, which the minikube data folder is. */
async function requireHostPathAllowed(target: Target): Promise<void> {
  const { namespace } = target.config
  const live = await (await target.kube()).core.readNamespace({ name: namespace }).catch((error: unknown) => {
    if (isNotFound(error)) return undefined
    if (isForbidden(error)) return null // may not read it: admission will say, if it refuses the pods
    throw error
  })
  if (live === null) return
  // A namespace the tool creates enforces restricted (kube/apply.ts).
  const level = live ? live.metadata?.labels?.['pod-security.kubernetes.io/enforce'] : restrictedNamespaceLabels['pod-security.kubernetes.io/enforce']
  if (level === 'restricted' || level === 'baseline') {
    throw new StepError(
      `--data on minikube mounts the node's folder (a hostPath volume), which PodSecurity forbids in namespace ${namespace}${live ? ` (enforce=${level})` : ', as the tool creates it'}`,
      '  - use a namespace that allows it, like default (--namespace default)',
    )
  }
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
  // A namespace-bound user may not read nodes: the pods' own events will say it.
  const schedulable = (await schedulableNodes(target)) ?? 1
  if (schedulable > 1) {
    throw new StepError(
      `--data-claim ${name} is ReadWriteOnce: only pods on one node may mount it, and this cluster has ${schedulable} schedulable nodes`,
      '  - use a ReadWriteMany claim (NFS, CephFS, EFS, Azure Files, Filestore…), or a cluster of one node',
    )
  }
}
