#!/usr/bin/env -S npx tsx
// README step "kubectl apply -f spark-master.yml / spark-worker.yml": server-side apply of the parsed
// manifests with only the run-time values set; on Docker the same pod templates become containers.
import type { KubernetesObject } from '@kubernetes/client-node'
import { parseConfig, type Config } from './lib/config.ts'
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
} from './lib/docker.ts'
import { connectKube, fieldManager, isNotFound, type Kube } from './lib/kube.ts'
import { runIfMain } from './lib/main.ts'
import { describeOutcome, type StepOutcome } from './lib/outcome.ts'
import { loadManifests, podTemplate, publishedPorts, renderCluster, type ClusterManifests, type ClusterShape } from './lib/manifests.ts'
import { kubeContext, resolvePlatform } from './lib/platform.ts'
import { imageReference } from './build-image.ts'

/** The parts of an object that apply can change; status and bookkeeping are left out. */
function declaredPart(object: KubernetesObject & { spec?: unknown; data?: unknown }): string {
  return JSON.stringify([object.metadata?.labels, object.metadata?.annotations, object.spec, object.data])
}

function describe(object: KubernetesObject): string {
  return `${object.kind?.toLowerCase()}/${object.metadata?.name}`
}

async function ensureNamespace(kube: Kube, namespace: string): Promise<boolean> {
  try {
    await kube.core.readNamespace({ name: namespace })
    return false
  } catch (error) {
    if (!isNotFound(error)) throw error
    await kube.core.createNamespace({ body: { metadata: { name: namespace } } })
    return true
  }
}

/**
 * Server-side apply, but first a dry run: when the server says nothing would change, the
 * object is left alone, so a second `cluster:up` can say "unchanged" truthfully.
 */
export async function applyToKubernetes(kube: Kube, objects: KubernetesObject[], namespace: string): Promise<StepOutcome> {
  const createdNamespace = await ensureNamespace(kube, namespace)
  const changes: string[] = createdNamespace ? [`namespace/${namespace} created`] : []
  for (const object of objects) {
    const header = { apiVersion: object.apiVersion!, kind: object.kind!, metadata: { name: object.metadata!.name!, namespace } }
    const live = await kube.objects.read(header).catch((error: unknown) => {
      if (isNotFound(error)) return undefined
      throw error
    })
    const { ServerSideApply } = kube.k8s.PatchStrategy
    const planned = await kube.objects.patch(object, undefined, 'All', fieldManager, true, ServerSideApply)
    if (live && declaredPart(planned) === declaredPart(live)) continue
    await kube.objects.patch(object, undefined, undefined, fieldManager, true, ServerSideApply)
    changes.push(`${describe(object)} ${live ? 'configured' : 'created'}`)
  }
  if (changes.length === 0) return { skipped: `${objects.map(describe).join(', ')} already as declared` }
  return { done: changes.join(', ') }
}

/** Docker: network + master container (published on 127.0.0.1) + N worker containers, each only if it drifted. */
export async function applyToDocker(manifests: ClusterManifests, shape: ClusterShape): Promise<StepOutcome> {
  const rendered = renderCluster(manifests, shape)
  const layout = dockerLayout(manifests)
  const existing = await listContainers(layout.appLabels)
  const shapeText = encodeShape(shape)
  const createdNetwork = await ensureNetwork(layout.network, layout.appLabels)
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
  if (!createdNetwork && !summary) return { skipped: `network ${layout.network} and ${changes.length} containers already as declared` }
  return { done: [createdNetwork ? `network ${layout.network} created` : '', summary].filter(Boolean).join(', ') }
}

runIfMain(import.meta.url, async () => {
  const config: Config = parseConfig('up', process.argv.slice(2))
  const manifests = loadManifests()
  const { platform } = await resolvePlatform(config)
  const shape = { ...config, image: imageReference(config) }
  const outcome =
    platform === 'docker'
      ? await applyToDocker(manifests, shape)
      : await (async () => {
          const rendered = renderCluster(manifests, shape)
          const kube = await connectKube(kubeContext(config, platform))
          return applyToKubernetes(kube, [rendered.master, rendered.service, rendered.worker], config.namespace)
        })()
  console.log(describeOutcome(outcome))
})
