import type { V1Container, V1Node, V1Pod } from '@kubernetes/client-node'
import { StepError } from './errors.ts'
import { isForbidden, type Kube } from './kube/kube.ts'
import { mainContainer, renderCluster, type ClusterManifests, type ClusterShape } from './manifests.ts'
import { kubeCpuToCores, kubeQuantityToMebibytes } from './units.ts'

/** CPU in cores and memory in MiB: what a pod requests, or what a node has free. */
export interface Room {
  cpu: number
  memoryMiB: number
}

export interface PodRequest extends Room {
  role: 'master' | 'worker' | 'driver'
}

type Shape = Pick<ClusterShape, 'workers' | 'workerCores' | 'workerMemory'>

function containerRequests(container: V1Container): Room {
  // A container with limits and no requests is given requests = limits by the API server.
  const requests = { ...container.resources?.limits, ...container.resources?.requests }
  return { cpu: kubeCpuToCores(requests.cpu ?? 0), memoryMiB: kubeQuantityToMebibytes(String(requests.memory ?? '0')) }
}

/** What the cluster asks the scheduler for: the master, each worker, and one Pi driver (it runs beside them). */
export function clusterRequests(manifests: ClusterManifests, shape: Shape): PodRequest[] {
  const rendered = renderCluster(manifests, { ...shape, image: '', namespace: '' })
  const worker = containerRequests(mainContainer(rendered.worker))
  return [
    { role: 'master', ...containerRequests(mainContainer(rendered.master)) },
    ...Array.from({ length: shape.workers }, () => ({ role: 'worker' as const, ...worker })),
    { role: 'driver', ...containerRequests(mainContainer(manifests.piJob)) },
  ]
}

export function total(rooms: Room[]): Room {
  return rooms.reduce((sum, room) => ({ cpu: sum.cpu + room.cpu, memoryMiB: sum.memoryMiB + room.memoryMiB }), { cpu: 0, memoryMiB: 0 })
}

/** "1.35 CPUs / 5120 MiB" */
export function formatRoom(room: Room): string {
  return `${Number(room.cpu.toFixed(2))} CPUs / ${Math.round(room.memoryMiB)} MiB`
}

/** The requests in words: "master 0.1/1024, 2 workers × 0.5/2048, Pi driver 0.25/1024 (CPUs/MiB)". */
export function describeRequests(pods: PodRequest[]): string {
  const first = (role: PodRequest['role']) => pods.find((pod) => pod.role === role)!
  const each = (room: Room) => `${Number(room.cpu.toFixed(2))}/${Math.round(room.memoryMiB)}`
  const workers = pods.filter((pod) => pod.role === 'worker').length
  return `master ${each(first('master'))}, ${workers} worker${workers === 1 ? '' : 's'} × ${each(first('worker'))}, Pi driver ${each(first('driver'))} (CPUs/MiB)`
}

/** Whether the pods fit on the nodes' free room, placed largest first onto the first node with room (as a scheduler would manage at best). */
export function fits(pods: Room[], nodes: Room[]): boolean {
  const free = nodes.map((node) => ({ ...node }))
  const largestFirst = [...pods].sort((a, b) => b.memoryMiB - a.memoryMiB || b.cpu - a.cpu)
  return largestFirst.every((pod) => {
    const node = free.find((n) => n.cpu + 1e-9 >= pod.cpu && n.memoryMiB + 1e-9 >= pod.memoryMiB)
    if (!node) return false
    node.cpu -= pod.cpu
    node.memoryMiB -= pod.memoryMiB
    return true
  })
}

/** The most workers of this shape that fit beside the master and a driver (0 when not even one does). */
export function mostWorkersThatFit(manifests: ClusterManifests, shape: Shape, nodes: Room[], limit = 64): number {
  let count = 0
  while (count < limit && fits(clusterRequests(manifests, { ...shape, workers: count + 1 }), nodes)) count++
  return count
}

function schedulable(node: V1Node): boolean {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True'
  // Our pods tolerate no taints: a NoSchedule/NoExecute node (a control plane, say) never takes them.
  const tainted = (node.spec?.taints ?? []).some((taint) => taint.effect === 'NoSchedule' || taint.effect === 'NoExecute')
  return ready && !node.spec?.unschedulable && !tainted
}

/**
 * Free room on each schedulable node: allocatable minus what every other pod on it requests.
 * Pods of this very cluster (`ours`) are not counted: they are what the requests replace.
 * Undefined when this user may not read nodes or all pods (a namespace-bound user): the check is
 * then skipped, and a pod that cannot be scheduled is still reported within seconds by the rollout wait.
 */
export async function freeRoomOnNodes(kube: Kube, ours: (pod: V1Pod) => boolean): Promise<Array<Room & { name: string }> | undefined> {
  try {
    const [{ items: nodes }, { items: pods }] = await Promise.all([
      kube.core.listNode(),
      kube.core.listPodForAllNamespaces({ fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' }),
    ])
    return nodes.filter(schedulable).map((node) => {
      const allocatable = node.status?.allocatable ?? {}
      const used = total(pods.filter((pod) => pod.spec?.nodeName === node.metadata?.name && !ours(pod)).map((pod) => total((pod.spec?.containers ?? []).map(containerRequests))))
      return {
        name: node.metadata!.name!,
        cpu: kubeCpuToCores(allocatable.cpu ?? '0') - used.cpu,
        memoryMiB: kubeQuantityToMebibytes(allocatable.memory ?? '0') - used.memoryMiB,
      }
    })
  } catch (error) {
    if (isForbidden(error)) return undefined
    throw error
  }
}

/** The two ways out, with this cluster's own numbers. */
export function roomRemedies(manifests: ClusterManifests, shape: Shape, nodes: Room[], grow: string): string {
  const most = mostWorkersThatFit(manifests, shape, nodes)
  const less = most > 0
    ? `ask for less: at most ${most} worker${most === 1 ? '' : 's'} of this size fit (--workers ${most}), or make each smaller (--worker-cores, --worker-memory)`
    : 'ask for less: not even one worker of this size fits; make it smaller (--worker-cores 1 --worker-memory 512m)'
  return `  - ${less}\n  - ${grow}`
}

/** Fails with the numbers and the remedies when the pods do not fit the free room (`free`: what the rooms are, in words). */
export function requireRoom(manifests: ClusterManifests, shape: Shape, nodes: Room[], where: string, grow: string, free = 'free'): string {
  const pods = clusterRequests(manifests, shape)
  const room = total(nodes)
  if (fits(pods, nodes)) return `${formatRoom(total(pods))} requested, ${formatRoom(room)} ${free} on ${where}`
  throw new StepError(
    `${where} has no room for this cluster: it requests ${formatRoom(total(pods))} (${describeRequests(pods)}), ${formatRoom(room)} is ${free}`,
    roomRemedies(manifests, shape, nodes, grow),
  )
}
