import type { KubernetesObject, V1Service } from '@kubernetes/client-node'
import { errorMessage, StepError } from '../errors.ts'
import { fieldManager, isForbidden, isNotFound, type Kube } from './kube.ts'
import { managedByLabel, withoutNodePorts } from '../manifests.ts'
import type { StepOutcome } from '../outcome.ts'

/** The parts of an object that apply can change (a Role's and a RoleBinding's are outside spec); status and bookkeeping are left out. */
function declaredPart(object: KubernetesObject & { spec?: unknown; data?: unknown; rules?: unknown; roleRef?: unknown; subjects?: unknown }): string {
  return JSON.stringify([object.metadata?.labels, object.metadata?.annotations, object.spec, object.data, object.rules, object.roleRef, object.subjects])
}

function describe(object: KubernetesObject): string {
  return `${object.kind?.toLowerCase()}/${object.metadata?.name}`
}

export const restrictedNamespaceLabels = { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted' }

/** Creates the namespace when it is missing. A user bound to one namespace may not read namespaces: then it must exist already. */
async function ensureNamespace(kube: Kube, namespace: string): Promise<boolean> {
  try {
    await kube.core.readNamespace({ name: namespace })
    return false
  } catch (error) {
    if (isForbidden(error)) return false
    if (!isNotFound(error)) throw error
    // PodSecurity admission (built into the API server) then refuses any pod that is not "restricted".
    await kube.core.createNamespace({ body: { metadata: { name: namespace, labels: restrictedNamespaceLabels } } })
    return true
  }
}

/** The classic NodePorts (30000/30001) are cluster-wide: a second cluster, or anyone else, may hold them. */
export function isNodePortTaken(error: unknown): boolean {
  return (error as { code?: number }).code === 422 && /port is already allocated/.test(errorMessage(error))
}

/**
 * NodePorts to ask for: a Service that exists keeps the ones it has (so a re-apply changes nothing);
 * a new one gets the manifest's fixed ports only in the default namespace, and elsewhere lets the
 * API server allocate free ones, so clusters in two namespaces never collide.
 */
export function nodePortsFor(service: V1Service, live: V1Service | undefined, namespace: string): V1Service {
  if (service.spec?.type !== 'NodePort') return service
  if (!live) return namespace === 'default' ? service : withoutNodePorts(service)
  const livePorts = new Map((live.spec?.ports ?? []).map((port) => [port.name, port.nodePort]))
  return { ...service, spec: { ...service.spec, ports: service.spec?.ports?.map((port) => ({ ...port, nodePort: livePorts.get(port.name) ?? port.nodePort })) } }
}

/** "7077→30000, 8080→30001" for a Service with NodePorts. */
function nodePortSummary(service: V1Service): string {
  const ports = (service.spec?.ports ?? []).filter((port) => port.nodePort)
  return ports.length ? ` (NodePorts ${ports.map((port) => `${port.port}→${port.nodePort}`).join(', ')})` : ''
}

/**
 * Server-side apply in two passes. First a dry run of every object: whatever the server would
 * refuse (a taken NodePort, admission, quota, permissions) stops the step before anything is
 * created, and objects the server says would not change are left alone, so a second `cluster:up`
 * can say "unchanged" truthfully. Then the real apply; if it still fails part way, the objects
 * this run created are deleted again, so no half-made cluster is left.
 * `first` objects (the cluster's Secret) are applied before all others, so no pod of a new template
 * can start on the old one; a new one is made with a plain create that fails if another run made
 * one meanwhile, so two runs at once never leave the pods with two secrets, one applied over the other.
 */
export async function applyToKubernetes(kube: Kube, objects: KubernetesObject[], namespace: string, first: KubernetesObject[] = []): Promise<StepOutcome> {
  const { ServerSideApply } = kube.k8s.PatchStrategy
  const dryRun = (object: KubernetesObject) => kube.objects.patch(object, undefined, 'All', fieldManager, true, ServerSideApply)
  const createdNamespace = await ensureNamespace(kube, namespace)
  const created: KubernetesObject[] = []
  // Another run working in the namespace (it made the Secret first) keeps it, even if this run made it.
  let othersInNamespace = false
  const undo = async () => {
    for (const object of created.reverse()) await kube.objects.delete(object, undefined, undefined, undefined, undefined, 'Background').catch(() => undefined)
    if (createdNamespace && !othersInNamespace) await kube.core.deleteNamespace({ name: namespace }).catch(() => undefined)
  }
  try {
    // Each object is read and dry-run on its own, all at once; then the changed ones applied at once.
    const plan = await Promise.all(objects.map(async (declared): Promise<{ declared: KubernetesObject; object: KubernetesObject; live?: KubernetesObject; changes: boolean }> => {
      const header = { apiVersion: declared.apiVersion!, kind: declared.kind!, metadata: { name: declared.metadata!.name!, namespace } }
      const live = await kube.objects.read(header).catch((error: unknown) => {
        if (isNotFound(error)) return undefined
        throw error
      })
      const owner = declared.metadata?.labels?.[managedByLabel]
      if (live && owner && live.metadata?.labels?.[managedByLabel] !== owner) {
        throw new StepError(
          `${describe(declared)} already exists in namespace ${namespace} without our ${managedByLabel}=${owner} label: refusing to take it over`,
          '  - it belongs to someone else: remove or rename it, or use another --namespace',
        )
      }
      let object = declared.kind === 'Service' ? nodePortsFor(declared as V1Service, live as V1Service | undefined, namespace) : declared
      const planned = await dryRun(object).catch(async (error: unknown) => {
        if (object.kind !== 'Service' || live || !isNodePortTaken(error)) throw error
        object = withoutNodePorts(object as V1Service)
        return dryRun(object)
      })
      return { declared, object, live, changes: !live || declaredPart(planned) !== declaredPart(live) }
    }))
    const changed = plan.filter((step) => step.changes)
    const applied = async ({ object, live }: (typeof plan)[number]): Promise<string> => {
      const result = await kube.objects.patch(object, undefined, undefined, fieldManager, true, ServerSideApply)
      if (!live) created.push(object)
      const ports = result.kind === 'Service' ? nodePortSummary(result as V1Service) : ''
      return `${describe(object)} ${live ? 'configured' : 'created'}${ports}`
    }
    const firstSteps = changed.filter((step) => first.includes(step.declared))
    const firstDone: string[] = []
    for (const step of firstSteps) {
      if (step.live) {
        firstDone.push(await applied(step))
        continue
      }
      await kube.objects.create(step.object, undefined, undefined, fieldManager).catch((error: unknown) => {
        if ((error as { code?: number }).code !== 409) throw error
        othersInNamespace = true
        throw new StepError(`${describe(step.object)} was created by another run in namespace ${namespace} while this one ran: nothing else was changed`, '  - run the command again: it keeps the Secret the other run made')
      })
      created.push(step.object)
      firstDone.push(`${describe(step.object)} created`)
    }
    const outcomes = await Promise.allSettled(changed.filter((step) => !firstSteps.includes(step)).map(applied))
    // Settled, not raced: every object this run created is known before any is undone.
    const failed = outcomes.find((outcome) => outcome.status === 'rejected')
    if (failed) throw failed.reason
    const changes = [
      ...(createdNamespace ? [`namespace/${namespace} created`] : []),
      ...firstDone,
      ...outcomes.map((outcome) => (outcome as PromiseFulfilledResult<string>).value),
    ]
    if (changes.length === 0) return { skipped: `${objects.map(describe).join(', ')} already as declared` }
    return { done: changes.join(', ') }
  } catch (error) {
    await undo()
    throw error
  }
}
