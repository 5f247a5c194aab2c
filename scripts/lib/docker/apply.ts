import { authVolume, describeAuthChange, withAuthConf, type AuthSettings } from '../cluster-secret.ts'
import { engineRoom } from './engine.ts'
import { ensureAuthVolume } from './secret.ts'
import {
  describeChanges,
  dockerLayout,
  encodeShape,
  ensureClaimVolumes,
  ensureContainer,
  ensureNetwork,
  listContainers,
  planContainer,
  reconcileWorkers,
  stopPlan,
  workerPlans,
  type ContainerChange,
} from './containers.ts'
import { podTemplate, publishedPorts, renderCluster, type ClusterManifests, type ClusterShape } from '../manifests.ts'
import { eventsVolume, withStorage, type ClusterStorage } from '../storage.ts'
import type { StepOutcome } from '../outcome.ts'
import type { V1PodTemplateSpec } from '@kubernetes/client-node'

/**
 * Docker: network + master container (published on 127.0.0.1) + N worker containers, each only if it
 * drifted. The master's cpu limit is cut to the engine's CPUs, asked here (apply runs alone too): Docker
 * refuses a container limited to more than it has (the workers' cores are checked against them before).
 */
export async function applyToDocker(manifests: ClusterManifests, shape: ClusterShape, settings: AuthSettings, storage: ClusterStorage = {}): Promise<StepOutcome> {
  const rendered = renderCluster(manifests, shape)
  withStorage(podTemplate(rendered.master), storage)
  withStorage(podTemplate(rendered.worker), storage)
  const layout = dockerLayout(manifests)
  const shapeText = encodeShape(shape)
  // The network first: a same-named one of someone else's is refused before any volume is made.
  const createdNetwork = await ensureNetwork(layout.network, layout.ourLabels)
  // Independent of each other: asked (and made) at once. The master then starts before the workers, as kubectl's order would have it.
  const [existing, auth, createdClaims, engine] = await Promise.all([
    listContainers(layout.ourLabels),
    ensureAuthVolume(manifests, shape.image, settings),
    ensureClaimVolumes(podTemplate(rendered.master), layout.ourLabels, shape.image).then(async (made) => [...made, ...(await ensureClaimVolumes(eventsTemplate(manifests, storage), layout.ourLabels, shape.image))]),
    engineRoom(),
  ])
  // The conf's digest is part of each container's spec: a new or repaired secret replaces them all.
  withAuthConf(rendered.master, auth.conf)
  withAuthConf(rendered.worker, auth.conf)
  const masterPlan = planContainer(podTemplate(rendered.master), {
    name: layout.masterName,
    network: layout.network,
    aliases: layout.masterAliases,
    publish: publishedPorts(manifests),
    restart: true,
    engineCpus: engine.cpu,
  })
  const masterChange = await ensureContainer(masterPlan, existing.find((c) => c.name === layout.masterName))
  const plans = workerPlans(rendered.worker, layout, shape.workers, shapeText)
  const workerChanges = await reconcileWorkers(plans, existing.filter((c) => c.labels.role === 'worker'), stopPlan(podTemplate(rendered.worker)))
  const changes: Array<[string, ContainerChange]> = [[layout.masterName, masterChange], ...workerChanges]
  const summary = describeChanges(changes)
  if (!createdNetwork && !auth.change && createdClaims.length === 0 && !summary) {
    return { skipped: `network ${layout.network}, volumes and ${changes.length} containers already as declared` }
  }
  const made = [
    createdNetwork ? `network ${layout.network} created` : '',
    describeAuthChange(`secret volume ${authVolume(manifests).name}`, auth.change),
    ...createdClaims.map((name) => `volume ${name} created`),
  ]
  return { done: [...made, summary].filter(Boolean).join(', ') }
}

/** The drivers' event-log volume as the pods will mount it: the labelled volume to make, when the data folder does not hold the logs. */
function eventsTemplate(manifests: ClusterManifests, storage: ClusterStorage): V1PodTemplateSpec {
  const driver = withStorage(structuredClone(podTemplate(manifests.piJob)), storage)
  return {
    metadata: { labels: manifests.eventsClaim.metadata?.labels },
    spec: { ...driver.spec!, volumes: driver.spec!.volumes?.filter((volume) => volume.name === eventsVolume) },
  }
}
