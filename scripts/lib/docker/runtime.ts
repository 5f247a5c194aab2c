// The cluster as containers on a local Docker engine: the manifests' pod templates become
// containers on one labelled network, the Secret a labelled volume, NodePorts ports published on
// loopback. Everything is found again by label, as `kubectl … -l app=spark` would.
import { requireRoom } from '../capacity.ts'
import { prepareHostFolder } from '../data-folder.ts'
import { indent, logLines } from '../diagnostics.ts'
import { StepError } from '../errors.ts'
import { ourLabels } from '../manifests.ts'
import { pollUntil } from '../poll.ts'
import { run } from '../proc.ts'
import type { StepOutcome } from '../outcome.ts'
import type { RoomShape, Runtime } from '../runtime.ts'
import type { Target } from '../target.ts'
import { applyToDocker } from './apply.ts'
import { dockerLayout, listContainers, pinnedLocally, runnable } from './containers.ts'
import { deleteOnDocker } from './delete.ts'
import { dockerFilesLimit, runDockerDriver } from './driver.ts'
import { engineContainers, engineEndpoint, engineIdentity, engineRoom } from './engine.ts'
import { scaleDockerWorkers } from './scale.ts'
import { runDockerShell } from './shell.ts'
import { volumeAuthConf } from './secret.ts'
import { dockerServer } from './server.ts'
import { dockerUi } from './ui.ts'

export function dockerRuntime(target: Target): Runtime {
  const layout = dockerLayout(target.manifests)
  const timeoutMs = () => target.config.timeoutSeconds * 1000
  return {
    name: `the cluster on the Docker engine at ${engineEndpoint().host}`,
    lockKey: async () => `docker ${engineIdentity(engineEndpoint())}`,
    memberNoun: 'containers',
    claimNoun: 'volume',
    submitFiles: { limit: dockerFilesLimit, holder: 'a submit takes on Docker' },
    publishImage: async (reference) => {
      const image = await pinnedLocally(reference)
      return { skipped: `the Docker engine that built the image runs it, by its ID ${runnable(image)}`, image }
    },
    checkRoom: (shape) => checkEngineRoom(target, shape),
    prepareStorage: async () => {
      const { data, dataClaim, dataPath } = target.config
      if (dataClaim) throw new StepError(`--data-claim ${dataClaim} names a Kubernetes PersistentVolumeClaim, which Docker has not: pass --data with a folder of this machine`)
      if (!data) return { storage: {} }
      return { storage: { data: { source: { hostPath: { path: data } }, mountPath: dataPath, what: `folder ${data}` }, groups: prepareHostFolder(data) } }
    },
    apply: (image, storage, workers) => applyToDocker(target.manifests, { ...target.config, image, workers }, target.config, storage),
    applyMonitoring: async () => ({ skipped: "Docker has no PodMonitor: Prometheus scrapes the master's UI on 127.0.0.1, and finds the workers and drivers by their prometheus.io labels or through the master's /proxy/ (README: Monitoring)" }),
    waitReady: (onProgress) =>
      pollUntil<string>('containers running', timeoutMs(), async () => {
        const containers = await listContainers(layout.ourLabels)
        const roles = containers.filter((c) => c.labels.role === 'master' || c.labels.role === 'worker')
        const notRunning = roles.filter((c) => c.state !== 'running')
        if (!roles.some((c) => c.labels.role === 'master')) return { waiting: 'no master container' }
        if (notRunning.length > 0) return { waiting: notRunning.map((c) => `${c.name} ${c.status}`).join(', ') }
        return { done: `${roles.length} containers running` }
      }, onProgress),
    // A controller that adds and removes containers needs the engine's socket, which is root on the host.
    elastic: {
      refusal: "--workers MIN..MAX needs a controller that adds and removes workers, and on Docker only one holding the engine's socket could, which is root on this machine: pass a fixed count (--workers N; npm run scale -- N changes it later), or run the cluster on Kubernetes (minikube, or --context) for elastic workers",
    },
    setWorkerCount: (count) => scaleDockerWorkers(target, count),
    // A driver advertises its container's host name, which is its name (planContainer), or the IP
    // that name resolves to on the network (pi.py's gethostbyname): either tells its applications.
    members: async () =>
      (await engineContainers(layout.ourLabels)).map((c) => ({ name: c.name, role: c.labels.role ?? '', state: c.state, detail: c.status, addresses: [c.name, ...c.networks.map((n) => n.ip).filter(Boolean)] })),
    runningMaster: async () => {
      const masters = await listContainers({ ...layout.ourLabels, role: 'master' })
      if (masters.length === 0) throw new StepError('no Spark master container here: run `npm run cluster:up` first')
      return { image: masters[0].image, annotations: masters[0].labels }
    },
    runDriver: (job, options) => runDockerDriver(target, job, options),
    runShell: (pod, tty, say) => runDockerShell(target, pod, tty, say),
    masterUi: () => dockerUi(target),
    server: (spec) => dockerServer(target, spec),
    authConf: (image) => volumeAuthConf(target.manifests, image),
    diagnostics: async () => {
      const containers = await listContainers(ourLabels(target.manifests))
      const sections = [`containers:\n${containers.map((c) => `  ${c.name}  ${c.state}  ${c.status}`).join('\n') || '  (none)'}`]
      for (const container of containers) {
        const logs = await run({ nothrow: true })`docker logs --tail ${logLines} ${container.name}`
        sections.push(`last log lines of ${container.name}:\n${indent(`${logs.stdout}${logs.stderr}`)}`)
      }
      return sections.join('\n')
    },
    deleteCluster: (role) => deleteOnDocker(target, role),
  }
}

/**
 * Docker reserves nothing, but the same requests must fit the engine's CPUs and memory (Docker
 * Desktop's VM, not the host) or the JVMs overrun it; and Docker refuses a container whose cpu
 * limit (a worker's cores) exceeds the engine's CPUs, which would fail half-way through the apply.
 */
async function checkEngineRoom(target: Target, shape: RoomShape): Promise<StepOutcome> {
  const engine = await engineRoom()
  const grow = 'or give the Docker engine more (Docker Desktop: Settings → Resources)'
  if (shape.workerCores > engine.cpu) {
    throw new StepError(`--worker-cores ${shape.workerCores} is more than the Docker engine's ${engine.cpu} CPUs: Docker refuses a container limited to more CPUs than it has`, `  - ask for less: --worker-cores ${engine.cpu} or fewer\n  - ${grow}`)
  }
  // Its total: Docker reserves nothing, so what other containers use is not known to be taken.
  return { done: requireRoom(target.manifests, shape, [engine], 'the Docker engine', grow, 'in all') }
}
