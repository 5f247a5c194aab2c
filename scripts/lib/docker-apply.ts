import { authVolume } from './cluster-secret.ts'
import { ensureAuthVolume } from './docker-secret.ts'
import {
  describeChanges,
  dockerLayout,
  encodeShape,
  ensureContainer,
  ensureNetwork,
  listContainers,
  planContainer,
  reconcileWorkers,
  workerPlans,
  type ContainerChange,
} from './docker.ts'
import { podTemplate, publishedPorts, renderCluster, type ClusterManifests, type ClusterShape } from './manifests.ts'
import type { StepOutcome } from './outcome.ts'

/** Docker: network + master container (published on 127.0.0.1) + N worker containers, each only if it drifted. */
export async function applyToDocker(manifests: ClusterManifests, shape: ClusterShape): Promise<StepOutcome> {
  const rendered = renderCluster(manifests, shape)
  const layout = dockerLayout(manifests)
  const existing = await listContainers(layout.ourLabels)
  const shapeText = encodeShape(shape)
  const createdNetwork = await ensureNetwork(layout.network, layout.ourLabels)
  const createdSecret = await ensureAuthVolume(manifests, shape.image)
  const masterPlan = planContainer(podTemplate(rendered.master), {
    name: layout.masterName,
    network: layout.network,
    aliases: layout.masterAliases,
    publish: publishedPorts(manifests),
    restart: true,
  })
  const masterChange = await ensureContainer(masterPlan, existing.find((c) => c.name === layout.masterName))
  const plans = workerPlans(rendered.worker, layout, shape.workers, shapeText)
  const workerChanges = await reconcileWorkers(plans, existing.filter((c) => c.labels.role === 'worker'))
  const changes: Array<[string, ContainerChange]> = [[layout.masterName, masterChange], ...workerChanges]
  const summary = describeChanges(changes)
  if (!createdNetwork && !createdSecret && !summary) return { skipped: `network ${layout.network}, secret volume ${authVolume(manifests).name} and ${changes.length} containers already as declared` }
  const made = [createdNetwork ? `network ${layout.network} created` : '', createdSecret ? `secret volume ${authVolume(manifests).name} created` : '']
  return { done: [...made, summary].filter(Boolean).join(', ') }
}
