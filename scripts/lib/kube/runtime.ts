// The cluster as Deployments, a Service and a Secret in one namespace, through the API server
// (server-side apply, watches, the Service proxy and port-forwards): minikube's and any other
// cluster's alike; minikube differs only in how the image gets in and how a node is grown.
import type { V1Pod } from '@kubernetes/client-node'
import { freeRoomOnNodes, requireRoom } from '../capacity.ts'
import { describeAuthChange, withAuthConf } from '../cluster-secret.ts'
import { asClusterIp, ourLabels, podTemplate, renderCluster, selectorOf } from '../manifests.ts'
import { withStorage, type ClusterStorage } from '../storage.ts'
import { withNote, type StepOutcome } from '../outcome.ts'
import { kubeContext } from '../platform.ts'
import type { RoomShape, Runtime } from '../runtime.ts'
import type { Target } from '../target.ts'
import { applyToKubernetes } from './apply.ts'
import { kubeElastic } from './autoscaler.ts'
import { deleteOnKubernetes } from './delete.ts'
import { kubeDiagnostics } from './diagnostics.ts'
import { applyPodMonitors } from './monitoring.ts'
import { configMapLimit, runKubeDriver } from './driver.ts'
import { apiServer, podSummary } from './kube.ts'
import { podImageOf, podImages, type PodImages } from './pod-image.ts'
import { publishToKubernetes } from './publish.ts'
import { planRecoveryStorage } from './recovery.ts'
import { readDeployment, waitForDeployments } from './rollout.ts'
import { scaleKubeWorkers } from './scale.ts'
import { declaredAuthSecret, liveAuthConf } from './secret.ts'
import { kubeServer } from './server.ts'
import { prepareKubeStorage } from './storage.ts'
import { runKubeShell } from './shell.ts'
import { kubeUi } from './ui.ts'

export function kubeRuntime(target: Target): Runtime {
  const { config, manifests, platform } = target
  const namespace = config.namespace
  const selector = selectorOf(ourLabels(manifests))
  const room = (shape: RoomShape) => checkNodeRoom(target, shape)
  const where = platform === 'minikube' ? `minikube profile ${config.profile}` : `context ${kubeContext(config, platform) ?? '(the current one)'}`
  const images = podImages()
  return {
    name: `the cluster in namespace ${namespace} of ${where}`,
    // A minikube profile is one cluster whose API server port changes with each start; any other
    // cluster is its API server, whichever context names it.
    lockKey: async () => `${platform === 'minikube' ? `minikube profile ${config.profile}` : `kubernetes ${apiServer(await target.kube())}`} namespace ${namespace}`,
    memberNoun: 'pods',
    claimNoun: 'claim',
    submitFiles: { limit: configMapLimit, holder: 'a Kubernetes ConfigMap holds' },
    publishImage: async (reference, builtOn) => {
      // An image built on a pushed cluster image is pushed beside it (its name has the registry in it), --registry given again or not.
      const push = Boolean(config.registry) || (builtOn !== undefined && images.pushed(builtOn))
      const { pod, ...outcome } = await publishToKubernetes(reference, platform, { push, profile: config.profile })
      return { ...outcome, image: images.remember(pod) }
    },
    checkRoom: room,
    prepareStorage: () => prepareKubeStorage(target),
    apply: (image, storage, workers) => applyCluster(target, images, image, storage, workers),
    applyMonitoring: async () => applyPodMonitors(await target.kube(), manifests.podMonitors, namespace),
    waitReady: async (onProgress, proven) =>
      // With a range, its controller too: cluster:up proves it runs.
      waitForDeployments(await target.kube(), namespace, [manifests.master, manifests.worker, ...(config.workerRange ? [manifests.autoscaler.deployment] : [])].map((d) => d.metadata!.name!), selector, config.timeoutSeconds * 1000, onProgress, proven),
    elastic: kubeElastic(target, images),
    setWorkerCount: (count) => scaleKubeWorkers(target, count, room),
    members: async () => {
      const { items } = await (await target.kube()).core.listNamespacedPod({ namespace, labelSelector: selector })
      return items.map((pod) => {
        const { ready, containers, restarts } = podSummary(pod)
        return { name: pod.metadata!.name!, role: pod.metadata?.labels?.role ?? '', state: pod.status?.phase ?? 'Unknown', detail: `ready ${ready}/${containers}, restarts ${restarts}`, addresses: pod.status?.podIP ? [pod.status.podIP] : [] }
      })
    },
    runningMaster: async () => {
      const { template } = (await readDeployment(await target.kube(), manifests.master.metadata!.name!, namespace)).spec!
      return { image: images.remember(podImageOf(template)), annotations: template.metadata?.annotations ?? {} }
    },
    runDriver: (job, options) => runKubeDriver(target, images.deployable(job), options),
    runShell: (pod, tty, say) => runKubeShell(target, images.deployable(pod), tty, say),
    masterUi: () => kubeUi(target),
    server: (spec) => kubeServer(target, spec, images),
    authConf: async () => liveAuthConf(await target.kube(), manifests, namespace),
    diagnostics: () => kubeDiagnostics(target),
    deleteCluster: (role, onProgress) => deleteOnKubernetes(target, role, onProgress),
  }
}

/** Server-side apply of the parsed manifests with only the run-time values set, the Secret first. */
async function applyCluster(target: Target, images: PodImages, image: string, storage: ClusterStorage, workers: number): Promise<StepOutcome> {
  const cluster = renderCluster(target.manifests, { ...target.config, image, workers })
  const rendered = { ...cluster, master: images.deployable(cluster.master), worker: images.deployable(cluster.worker) }
  withStorage(podTemplate(rendered.master), storage)
  withStorage(podTemplate(rendered.worker), storage)
  // The drivers' event logs, on the tool's own claim unless the data or the drivers' pods keep them.
  const events = storage.data || storage.eventsOff ? [] : [rendered.eventsClaim]
  const kube = await target.kube()
  const auth = await declaredAuthSecret(kube, target.manifests, target.config.namespace, target.config)
  const service = exposure(target) === 'nodeport' ? rendered.service : asClusterIp(rendered.service)
  const recovery = await planRecoveryStorage(kube, rendered.recoveryClaim, withAuthConf(rendered.master, auth.conf))
  const objects = [auth.secret, ...(recovery.claim ? [recovery.claim] : []), ...events, recovery.master, service, rendered.networkPolicy, withAuthConf(rendered.worker, auth.conf), rendered.workerBudget]
  const outcome = await applyToKubernetes(kube, objects, target.config.namespace, [auth.secret])
  const notes = [auth.change?.kind === 'repaired' ? describeAuthChange(`secret/${auth.secret.metadata!.name}`, auth.change) : '', recovery.note ?? ''].filter(Boolean)
  return notes.length ? withNote(outcome, notes.join('; ')) : outcome
}

/**
 * NodePorts face every node's address: fine on minikube (a local VM, and the classic README's
 * path), asked for explicitly on a shared cluster, where the UI goes through the API server instead.
 */
function exposure(target: Target): 'nodeport' | 'clusterip' {
  return target.config.expose ?? (target.platform === 'kubernetes' ? 'clusterip' : 'nodeport')
}

async function checkNodeRoom(target: Target, shape: RoomShape): Promise<StepOutcome> {
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
