import type { KubernetesObject } from '@kubernetes/client-node'
import { fieldManager, isNotFound, type Kube } from './kube.ts'
import type { StepOutcome } from './outcome.ts'

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
