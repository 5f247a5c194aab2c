#!/usr/bin/env -S npx tsx
// Before `kubectl apply` (or the containers): does the cluster have room for what the pods request?
// The classic README finds out from a worker stuck in Pending; here the numbers and the ways out
// come before anything is applied.
import type { V1Pod } from '@kubernetes/client-node'
import { freeRoomOnNodes, requireRoom, type Room } from './lib/capacity.ts'
import { parseConfig } from './lib/config.ts'
import { engineEndpoint, engineExpect } from './lib/docker-engine.ts'
import { StepError } from './lib/errors.ts'
import { runIfMain } from './lib/main.ts'
import { describeOutcome, type StepOutcome } from './lib/outcome.ts'
import { ourLabels, type ClusterShape } from './lib/manifests.ts'
import { resolvePlatform } from './lib/platform.ts'
import { makeTarget, type Target } from './lib/target.ts'

type Shape = Pick<ClusterShape, 'workers' | 'workerCores' | 'workerMemory'>

export async function checkRoom(target: Target, shape: Shape): Promise<StepOutcome> {
  return target.platform === 'docker' ? checkEngineRoom(target, shape) : checkNodeRoom(target, shape)
}

async function checkNodeRoom(target: Target, shape: Shape): Promise<StepOutcome> {
  const { namespace, profile } = target.config
  // This cluster's own pods (master, workers, a running Pi driver) are what the requests stand for: not counted as used.
  const labels = ourLabels(target.manifests)
  const ours = (pod: V1Pod) => pod.metadata?.namespace === namespace && Object.entries(labels).every(([key, value]) => pod.metadata?.labels?.[key] === value)
  const nodes = await freeRoomOnNodes(await target.kube(), ours)
  if (!nodes) return { skipped: 'these credentials may not read nodes (a namespace-bound user); a pod that cannot be scheduled is reported by the rollout wait' }
  const where = nodes.length === 1 ? `node ${nodes[0].name}` : `the ${nodes.length} schedulable nodes`
  const grow =
    target.platform === 'minikube'
      ? `or give it more room: minikube never resizes a profile, so \`minikube delete -p ${profile}\` and \`npm run cluster:up\` again creates it sized for this cluster (as far as the machine or Docker engine allows)`
      : 'or give it more room: more or bigger nodes, or fewer other pods'
  return { done: requireRoom(target.manifests, shape, nodes, where, grow) }
}

/**
 * Docker reserves nothing, but the same requests must fit the engine's CPUs and memory (Docker
 * Desktop's VM, not the host) or the JVMs overrun it; and Docker refuses a container whose cpu
 * limit (a worker's cores) exceeds the engine's CPUs, which would fail half-way through the apply.
 */
async function checkEngineRoom(target: Target, shape: Shape): Promise<StepOutcome> {
  const info = (await engineExpect<{ NCPU: number; MemTotal: number }>(engineEndpoint(), 'GET', '/info'))!
  const engine: Room = { cpu: info.NCPU, memoryMiB: info.MemTotal / 2 ** 20 }
  const grow = 'or give the Docker engine more (Docker Desktop: Settings → Resources)'
  if (shape.workerCores > engine.cpu) {
    throw new StepError(`--worker-cores ${shape.workerCores} is more than the Docker engine's ${engine.cpu} CPUs: Docker refuses a container limited to more CPUs than it has`, `  - ask for less: --worker-cores ${engine.cpu} or fewer\n  - ${grow}`)
  }
  // Its total: Docker reserves nothing, so what other containers use is not known to be taken.
  return { done: requireRoom(target.manifests, shape, [engine], 'the Docker engine', grow, 'in all') }
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('up', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  console.log(describeOutcome(await checkRoom(makeTarget(config, platform), config)))
})
