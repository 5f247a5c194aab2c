// Elastic workers on Kubernetes: the controller of manifests/elastic/ (a Deployment with a
// ServiceAccount bound to a Role of the namespace) applied with the cluster, removed when a fixed
// count returns, and read back for `status` with the Events it records on the worker Deployment.
import type { CoreV1Event, KubernetesObject, V1Deployment } from '@kubernetes/client-node'
import { describeRange, type ElasticEvent, type ElasticStatus } from '../elastic.ts'
import { autoscalerSettings, renderAutoscaler } from '../manifests.ts'
import type { StepOutcome } from '../outcome.ts'
import { pollUntil } from '../poll.ts'
import type { ElasticWorkers } from '../runtime.ts'
import type { Target } from '../target.ts'
import { applyToKubernetes } from './apply.ts'
import { isNotFound, type Kube } from './kube.ts'
import type { PodImages } from './pod-image.ts'

/** How many of the controller's last decisions `status` shows. */
export const eventsShown = 5

export function kubeElastic(target: Target, images: PodImages): ElasticWorkers {
  const { manifests } = target
  const namespace = target.config.namespace
  const controller = manifests.autoscaler.deployment.metadata!.name!
  const readOptional = async (name: string): Promise<V1Deployment | undefined> =>
    (await target.kube()).apps.readNamespacedDeployment({ name, namespace }).catch((error: unknown) => {
      if (isNotFound(error)) return undefined
      throw error
    })
  return {
    liveWorkers: async () => (await readOptional(manifests.worker.metadata!.name!))?.spec?.replicas,
    apply: async (image, range, idleSeconds): Promise<StepOutcome> => {
      const objects = renderAutoscaler(manifests, { image, namespace, range, idleSeconds }).map((object) => (object.kind === 'Deployment' ? images.deployable(object as V1Deployment) : object))
      const outcome = await applyToKubernetes(await target.kube(), objects, namespace)
      const said = `elastic workers ${describeRange(range, idleSeconds)}`
      return 'done' in outcome ? { done: `${said}: ${outcome.done}` } : { skipped: `${said}: ${controller} unchanged` }
    },
    end: async () => {
      const live = await readOptional(controller)
      if (!live) return undefined
      const kube = await target.kube()
      // Foreground: the Deployment is gone only once its pod is, so nothing scales the workers after this returns.
      await Promise.all(autoscalerObjects(target).map((object) => kube.objects.delete(object, undefined, undefined, undefined, undefined, 'Foreground').catch((error: unknown) => {
        if (!isNotFound(error)) throw error
      })))
      await pollUntil(`${controller} to go`, target.config.timeoutSeconds * 1000, async () => ((await readOptional(controller)) ? { waiting: `deployment/${controller} still there` } : { done: true }))
      return autoscalerSettings(live)
    },
    read: async () => {
      const live = await readOptional(controller)
      if (!live) return undefined
      const workers = await readOptional(manifests.worker.metadata!.name!)
      return { ...autoscalerSettings(live), events: await controllerEvents(await target.kube(), namespace, manifests.worker.metadata!.name!, controller, workers?.metadata?.uid) } satisfies ElasticStatus
    },
  }
}

/** The four objects by kind and name, as delete takes them. */
function autoscalerObjects(target: Target): KubernetesObject[] {
  const { serviceAccount, role, roleBinding, deployment } = target.manifests.autoscaler
  return [roleBinding, role, serviceAccount, deployment].map(({ apiVersion, kind, metadata }) => ({ apiVersion, kind, metadata: { name: metadata!.name, namespace: target.config.namespace } }))
}

/**
 * The controller's last decisions: core/v1 Events it recorded on the worker Deployment, oldest first.
 * Only this Deployment's (its uid): a cluster taken down and up again within the Events' hour has a new one.
 */
export async function controllerEvents(kube: Kube, namespace: string, workers: string, controller: string, workersUid?: string): Promise<ElasticEvent[]> {
  const ofThisOne = workersUid ? `,involvedObject.uid=${workersUid}` : ''
  const { items } = await kube.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=Deployment,involvedObject.name=${workers}${ofThisOne}` })
  const time = (event: CoreV1Event) => new Date(event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata?.creationTimestamp ?? 0)
  return items
    .filter((event) => event.source?.component === controller || event.reportingComponent === controller)
    .sort((a, b) => time(a).getTime() - time(b).getTime())
    .slice(-eventsShown)
    .map((event) => ({ reason: event.reason ?? '', type: event.type ?? 'Normal', message: event.message ?? '', time: time(event).toISOString() }))
}
