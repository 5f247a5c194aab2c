#!/usr/bin/env -S npx tsx
// Before `kubectl apply`: does the cluster have room for what the pods request? The classic README
// finds out from a worker stuck in Pending; here the numbers and the ways out come before anything
// is applied.
import type { V1Pod } from '@kubernetes/client-node'
import { freeRoomOnNodes, requireRoom } from './lib/capacity.ts'
import { parseConfig } from './lib/config.ts'
import { runIfMain } from './lib/main.ts'
import { describeOutcome, type StepOutcome } from './lib/outcome.ts'
import { ourLabels, type ClusterShape } from './lib/manifests.ts'
import { resolvePlatform } from './lib/platform.ts'
import { makeTarget, type Target } from './lib/target.ts'

type Shape = Pick<ClusterShape, 'workers' | 'workerCores' | 'workerMemory'>

export async function checkRoom(target: Target, shape: Shape): Promise<StepOutcome> {
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

runIfMain(import.meta.url, async () => {
  const config = parseConfig('up', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  console.log(describeOutcome(await checkRoom(makeTarget(config, platform), config)))
})
