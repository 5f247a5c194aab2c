import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type {
  KubernetesObject,
  V1Container,
  V1Deployment,
  V1Job,
  V1LabelSelector,
  V1NetworkPolicy,
  V1PersistentVolumeClaim,
  V1PodDisruptionBudget,
  V1Pod,
  V1PodTemplateSpec,
  V1Role,
  V1RoleBinding,
  V1Service,
  V1ServiceAccount,
} from '@kubernetes/client-node'
import type { WorkerRange } from './elastic.ts'
import { ParsedFileCache } from './parsed-cache.ts'
import { cacheDir, manifestsDir } from './paths.ts'
import { formatMebibytes, kubeCpuToCores, sparkMemoryToMebibytes } from './units.ts'
import { workerContainerMiB, type WorkerMemory } from './worker-memory.ts'

/** The static manifests, parsed: the single source of ports, labels, env and commands. */
export interface ClusterManifests {
  master: V1Deployment
  service: V1Service
  worker: V1Deployment
  /** The master's recovery state (spark.deploy.recoveryDirectory). */
  recoveryClaim: V1PersistentVolumeClaim
  /** Drains take workers one at a time, so each decommissions before the next goes. */
  workerBudget: V1PodDisruptionBudget
  /** Only the cluster's own pods may open the master's ports. */
  masterPolicy: V1NetworkPolicy
  piJob: V1Job
  /** What `npm run logs` runs: prints one application's kept logs (manifests/jobs/spark-logs.yml). */
  logsJob: V1Job
  /** The Spark Connect server (manifests/connect/), started by `npm run connect`. */
  connect: { deployment: V1Deployment; service: V1Service }
  /** The drivers' event logs (manifests/spark-events.yml), unless the data folder or claim holds them. */
  eventsClaim: V1PersistentVolumeClaim
  /** The Spark History Server (manifests/history/), started by `npm run history`. */
  history: { deployment: V1Deployment; service: V1Service }
  /** JupyterLab (manifests/notebook/), started by `npm run notebook`, with the claim its notebooks live on when the cluster has no data. */
  notebook: { deployment: V1Deployment; service: V1Service; claim: V1PersistentVolumeClaim }
  /** The Prometheus Operator's PodMonitors (manifests/monitoring/), applied where their CRD exists. */
  podMonitors: KubernetesObject[]
  /** The controller of elastic workers (manifests/elastic/), applied by `cluster:up --workers MIN..MAX`. */
  autoscaler: AutoscalerManifests
}

/** The controller's Deployment and the rights it runs with: a ServiceAccount bound to a Role of the namespace. */
export interface AutoscalerManifests {
  serviceAccount: V1ServiceAccount
  role: V1Role
  roleBinding: V1RoleBinding
  deployment: V1Deployment
}

/** What a user may change at run time; everything else comes from the files unchanged. */
export interface ClusterShape {
  image: string
  namespace: string
  workers: number
  workerCores: number
  workerMemory: string
}

export function parseManifestFile(path: string): KubernetesObject[] {
  // Loaded here, not at start-up: most commands read the manifests back from the parsed cache.
  const { parseAllDocuments } = createRequire(import.meta.url)('yaml') as typeof import('yaml')
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`${path}: ${document.errors[0].message}`)
      return document.toJS() as KubernetesObject | null
    })
    .filter((object): object is KubernetesObject => object !== null)
}

/** Reads manifests/*.yml (what `kubectl apply -f manifests/` applies), manifests/jobs/, manifests/connect/, manifests/history/, manifests/notebook/ and manifests/monitoring/. */
export function loadManifests(dir: string = manifestsDir): ClusterManifests {
  const parsed = new ParsedFileCache<KubernetesObject[]>(cacheDir('parsed-manifests.json'))
  const parse = (path: string) => parsed.get(path, parseManifestFile)
  const objects = readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .flatMap((name) => parse(join(dir, name)))
  const connect = parse(join(dir, 'connect', 'spark-connect.yml'))
  const history = parse(join(dir, 'history', 'spark-history.yml'))
  const notebook = parse(join(dir, 'notebook', 'spark-notebook.yml'))
  const find = <T extends KubernetesObject>(kind: string, role: string, among = objects): T => {
    const found = among.filter((o) => o.kind === kind && o.metadata?.labels?.role === role)
    if (found.length !== 1) throw new Error(`${dir}: expected one ${kind} labelled role=${role}, found ${found.length}`)
    return found[0] as T
  }
  const [piJob] = parse(join(dir, 'jobs', 'spark-pi.yml')) as V1Job[]
  const [logsJob] = parse(join(dir, 'jobs', 'spark-logs.yml')) as V1Job[]
  const podMonitors = parse(join(dir, 'monitoring', 'spark-podmonitor.yml'))
  const autoscaler = parse(join(dir, 'elastic', 'spark-autoscaler.yml'))
  parsed.save()
  return {
    master: find<V1Deployment>('Deployment', 'master'),
    service: find<V1Service>('Service', 'master'),
    worker: find<V1Deployment>('Deployment', 'worker'),
    recoveryClaim: find<V1PersistentVolumeClaim>('PersistentVolumeClaim', 'master'),
    workerBudget: find<V1PodDisruptionBudget>('PodDisruptionBudget', 'worker'),
    masterPolicy: find<V1NetworkPolicy>('NetworkPolicy', 'master'),
    piJob,
    logsJob,
    connect: { deployment: find<V1Deployment>('Deployment', 'connect', connect), service: find<V1Service>('Service', 'connect', connect) },
    eventsClaim: find<V1PersistentVolumeClaim>('PersistentVolumeClaim', 'events'),
    history: { deployment: find<V1Deployment>('Deployment', 'history', history), service: find<V1Service>('Service', 'history', history) },
    notebook: {
      deployment: find<V1Deployment>('Deployment', 'notebook', notebook),
      service: find<V1Service>('Service', 'notebook', notebook),
      claim: find<V1PersistentVolumeClaim>('PersistentVolumeClaim', 'notebook', notebook),
    },
    podMonitors,
    autoscaler: {
      serviceAccount: find<V1ServiceAccount>('ServiceAccount', 'autoscaler', autoscaler),
      role: find<V1Role>('Role', 'autoscaler', autoscaler),
      roleBinding: find<V1RoleBinding>('RoleBinding', 'autoscaler', autoscaler),
      deployment: find<V1Deployment>('Deployment', 'autoscaler', autoscaler),
    },
  }
}

export function podTemplate(object: V1Deployment | V1Job): V1PodTemplateSpec {
  const template = object.spec?.template
  if (!template?.spec?.containers?.length) throw new Error(`${object.kind} ${object.metadata?.name} has no containers`)
  return template
}

/** The one container of a pod template (our manifests run one process per pod). */
export function mainContainer(object: V1Deployment | V1Job): V1Container {
  return podTemplate(object).spec!.containers[0]
}

export function envValue(container: V1Container, name: string): string | undefined {
  return container.env?.find((variable) => variable.name === name)?.value
}

function setEnv(container: V1Container, name: string, value: string): void {
  const variable = container.env?.find((v) => v.name === name)
  if (!variable) throw new Error(`container ${container.name} has no env ${name} to set`)
  variable.value = value
}

/** Defaults for the run-time knobs, read from the worker Deployment. */
export function workerDefaults(manifests: ClusterManifests): Omit<ClusterShape, 'image' | 'namespace'> {
  const container = mainContainer(manifests.worker)
  return {
    workers: manifests.worker.spec?.replicas ?? 1,
    workerCores: Number(envValue(container, 'SPARK_WORKER_CORES')),
    workerMemory: envValue(container, 'SPARK_WORKER_MEMORY') ?? '1g',
  }
}

/** The master URL every driver and worker dials, e.g. spark://spark-master-service:7077. */
export function masterUrl(manifests: ClusterManifests): string {
  const url = mainContainer(manifests.worker).args?.find((arg) => arg.startsWith('spark://'))
  if (!url) throw new Error('the worker Deployment names no spark:// master URL in its args')
  return url
}

/** Service port → NodePort → container port, with named target ports resolved. */
export interface PublishedPort {
  name: string
  nodePort: number
  containerPort: number
}

export function publishedPorts(manifests: ClusterManifests): PublishedPort[] {
  const containerPorts = mainContainer(manifests.master).ports ?? []
  return (manifests.service.spec?.ports ?? []).map((port) => {
    const target = port.targetPort ?? port.port
    const containerPort =
      typeof target === 'number' ? target : containerPorts.find((p) => p.name === target)?.containerPort
    if (!port.nodePort || !containerPort) throw new Error(`service port ${port.name} needs a nodePort and a resolvable targetPort`)
    return { name: port.name ?? String(port.port), nodePort: port.nodePort, containerPort }
  })
}

/** The master web UI's Service port (the one named …webui): its name, NodePort and container port. */
export function uiPort(manifests: ClusterManifests): PublishedPort {
  const ui = publishedPorts(manifests).find((port) => /webui/.test(port.name))
  if (!ui) throw new Error('the master Service publishes no web UI port')
  return ui
}

export function uiNodePort(manifests: ClusterManifests): number {
  return uiPort(manifests).nodePort
}

/**
 * The cluster objects as they should be applied: copies of the files with only the run-time
 * values set. Worker resources follow cores/memory: cpu limit = cores with the file's
 * request/limit share requested; memory = what the container will really hold (worker-memory.ts).
 */
export interface RenderedCluster {
  master: V1Deployment
  recoveryClaim: V1PersistentVolumeClaim
  eventsClaim: V1PersistentVolumeClaim
  service: V1Service
  worker: V1Deployment
  workerBudget: V1PodDisruptionBudget
  networkPolicy: V1NetworkPolicy
}

export function renderCluster(manifests: ClusterManifests, shape: ClusterShape): RenderedCluster {
  const master = withNamespace(manifests.master, shape.namespace)
  const service = withNamespace(manifests.service, shape.namespace)
  const worker = withNamespace(manifests.worker, shape.namespace)
  mainContainer(master).image = shape.image
  worker.spec!.replicas = shape.workers

  const container = mainContainer(worker)
  container.image = shape.image
  setEnv(container, 'SPARK_WORKER_CORES', String(shape.workerCores))
  setEnv(container, 'SPARK_WORKER_MEMORY', shape.workerMemory)
  const memory = formatMebibytes(workerContainerMiB(workerMemoryOf(container)))
  const fileResources = mainContainer(manifests.worker).resources ?? {}
  const requestShare = kubeCpuToCores(fileResources.requests?.cpu ?? 1) / kubeCpuToCores(fileResources.limits?.cpu ?? 1)
  container.resources = {
    ...container.resources,
    requests: { ...container.resources?.requests, cpu: `${Math.round(shape.workerCores * requestShare * 1000)}m`, memory },
    limits: { ...container.resources?.limits, cpu: String(shape.workerCores), memory },
  }
  return {
    master,
    recoveryClaim: withNamespace(manifests.recoveryClaim, shape.namespace),
    eventsClaim: withNamespace(manifests.eventsClaim, shape.namespace),
    service,
    worker,
    workerBudget: withNamespace(manifests.workerBudget, shape.namespace),
    networkPolicy: asClientModel(withNamespace(manifests.masterPolicy, shape.namespace)),
  }
}

/** The inputs of the worker's memory formula, read from its container's env. */
export function workerMemoryOf(container: V1Container): WorkerMemory {
  const read = (name: string) => {
    const value = envValue(container, name)
    if (value === undefined) throw new Error(`container ${container.name} has no env ${name}`)
    return value
  }
  return {
    executorsMiB: sparkMemoryToMebibytes(read('SPARK_WORKER_MEMORY')),
    cores: Number(read('SPARK_WORKER_CORES')),
    daemonMiB: sparkMemoryToMebibytes(read('SPARK_DAEMON_MEMORY')),
  }
}

/**
 * The policy in client-node's model, which sends an ingress rule's `from` only when it is spelled
 * `_from` (a reserved word in its generated classes): as parsed from YAML it would be dropped, and
 * a rule without `from` lets every source in.
 */
function asClientModel(policy: V1NetworkPolicy): V1NetworkPolicy {
  const ingress = policy.spec?.ingress?.map((rule) => {
    const { from, ...rest } = rule as typeof rule & { from?: typeof rule._from }
    const sources = from ?? rule._from
    return sources ? { ...rest, _from: sources } : rest
  })
  return { ...policy, spec: { ...policy.spec!, ingress } }
}

/** The Service without NodePorts: what the API server then allocates, or nothing at all for a ClusterIP one. */
export function withoutNodePorts(service: V1Service): V1Service {
  return { ...service, spec: { ...service.spec, ports: service.spec?.ports?.map(({ nodePort: _, ...port }) => port) } }
}

/** The master Service kept inside the cluster: Spark RPC and the UI face no node address. */
export function asClusterIp(service: V1Service): V1Service {
  const inside = withoutNodePorts(service)
  return { ...inside, spec: { ...inside.spec, type: 'ClusterIP' } }
}

export function renderPiJob(manifests: ClusterManifests, options: { image: string; namespace: string; partitions?: number; timeoutSeconds?: number }): V1Job {
  const job = withNamespace(manifests.piJob, options.namespace)
  // Kubernetes stops the driver itself when --timeout runs out, even if this process was killed.
  if (options.timeoutSeconds !== undefined) job.spec = { ...job.spec!, activeDeadlineSeconds: options.timeoutSeconds }
  const container = mainContainer(job)
  container.image = options.image
  if (options.partitions !== undefined) setEnv(container, 'PI_PARTITIONS', String(options.partitions))
  return job
}

/**
 * Where the applications' logs are kept: the workers' work dir (executors' stdout and stderr), where the
 * drivers keep theirs too (docker/driver-log4j2.properties).
 */
export function logsFolder(manifests: ClusterManifests): string {
  const folder = envValue(mainContainer(manifests.worker), 'SPARK_WORKER_DIR')
  if (!folder) throw new Error('the worker Deployment sets no SPARK_WORKER_DIR')
  return folder
}

/** The Job printing what one application kept, and the log of its driver or of one executor. */
export function renderLogsJob(manifests: ClusterManifests, options: { image: string; namespace: string; appId: string; executor?: number }): V1Job {
  const job = withNamespace(manifests.logsJob, options.namespace)
  const container = mainContainer(job)
  container.image = options.image
  container.args = [...(container.args ?? []), logsFolder(manifests), options.appId, ...(options.executor === undefined ? [] : [String(options.executor)])]
  return job
}

/** The volume of a driver's pod template that carries its files: a ConfigMap on Kubernetes, a volume on Docker. */
export const filesVolume = 'files'

/** What `npm run submit` runs: the user's file, its arguments, and spark-submit's extras. */
export interface SubmitSpec {
  image: string
  namespace: string
  timeoutSeconds?: number
  /** Base names of the files, all mounted in one directory. */
  app: string
  appArgs: string[]
  pyFiles: string[]
  files: string[]
  confs: string[]
}

/** The Pi driver's spark-submit command up to its application file: what every driver the tool starts shares. */
function submitBeforeApp(container: V1Container): string[] {
  const args = container.args ?? []
  return args.slice(0, args.findIndex((arg) => arg.endsWith('.py')))
}

/**
 * The user's driver, made from the Pi Job (one source for the driver's command, resources and
 * security): its spark-submit up to the application file, then the user's conf, py-files, files,
 * app and arguments. The files come from a volume named `files` mounted read-only at the
 * working directory, so the app opens its --files by name.
 */
export function renderSubmitJob(manifests: ClusterManifests, spec: SubmitSpec, filesDir = '/opt/spark/submit'): V1Job {
  const job = renderPiJob(manifests, { image: spec.image, namespace: spec.namespace, timeoutSeconds: spec.timeoutSeconds })
  job.metadata = { ...job.metadata, generateName: 'spark-submit-' }
  const container = mainContainer(job)
  const submitArgs = submitBeforeApp(container)
  const inDir = (names: string[]) => names.map((name) => `${filesDir}/${name}`).join(',')
  container.name = 'spark-submit'
  container.args = [
    ...submitArgs,
    ...spec.confs.flatMap((conf) => ['--conf', conf]),
    ...(spec.pyFiles.length ? ['--py-files', inDir(spec.pyFiles)] : []),
    ...(spec.files.length ? ['--files', inDir(spec.files)] : []),
    `${filesDir}/${spec.app}`,
    ...spec.appArgs,
  ]
  container.env = container.env?.filter((variable) => !variable.name.startsWith('PI_'))
  container.workingDir = filesDir
  container.volumeMounts = [...(container.volumeMounts ?? []), { name: filesVolume, mountPath: filesDir, readOnly: true }]
  const pod = podTemplate(job).spec!
  // 0444: the Spark user reads them; the ConfigMap's name is the Job's, set when it is created.
  pod.volumes = [...(pod.volumes ?? []), { name: filesVolume, configMap: { name: 'spark-submit', defaultMode: 0o444 } }]
  return job
}

/**
 * `npm run shell`: the Pi Job's pod (security, resources, the shared conf, the advertised IP) running
 * the pyspark REPL against the master instead of a file, attached to the user's terminal. `python -i`
 * keeps it a REPL (prompts, echoed values, the `spark` session) when the input is piped rather than
 * typed. A shell lasts as long as its user, up to a working day: a shell whose terminal died with the
 * tool (kill -9, a closed laptop) holds its cores no longer than that.
 */
export const shellDeadlineSeconds = 12 * 60 * 60

export function renderShellPod(manifests: ClusterManifests, options: { image: string; namespace: string; tty: boolean }): V1Pod {
  const job = renderPiJob(manifests, { image: options.image, namespace: options.namespace })
  const template = podTemplate(job)
  const container = template.spec!.containers[0]
  container.name = 'spark-shell'
  container.args = submitBeforeApp(container).map((arg) => arg.replace(/\/spark-submit$/, '/pyspark'))
  container.env = [
    ...(container.env ?? []).filter((variable) => !variable.name.startsWith('PI_')),
    { name: 'PYSPARK_DRIVER_PYTHON_OPTS', value: '-i' },
    // Python keeps its history in $HOME, which the read-only image does not let it write.
    { name: 'HOME', value: '/tmp' },
  ]
  Object.assign(container, { stdin: true, stdinOnce: true, tty: options.tty })
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'spark-shell-', namespace: options.namespace, labels: template.metadata?.labels, annotations: template.metadata?.annotations },
    spec: { ...template.spec!, activeDeadlineSeconds: shellDeadlineSeconds },
  }
}

/** A server of the cluster's (Spark Connect, the History Server, JupyterLab): a Deployment and its Service. */
export interface ServerManifests {
  deployment: V1Deployment
  service: V1Service
  /** Claims of its own it mounts (JupyterLab's notebooks, when the cluster has no data), made with it. */
  claims?: V1PersistentVolumeClaim[]
}

/** A server's Deployment, Service (and claims) for this cluster: its image and namespace. */
export function renderServer(server: ServerManifests, options: { image: string; namespace: string }): ServerManifests {
  const deployment = withNamespace(server.deployment, options.namespace)
  mainContainer(deployment).image = options.image
  const rendered: ServerManifests = { deployment, service: withNamespace(server.service, options.namespace) }
  if (server.claims) rendered.claims = server.claims.map((claim) => withNamespace(claim, options.namespace))
  return rendered
}

/** The env of the controller's container that carries the range and idle time (manifests/elastic/). */
export const autoscalerEnv = { min: 'SPARK_WORKERS_MIN', max: 'SPARK_WORKERS_MAX', idleSeconds: 'SPARK_WORKER_IDLE_SECONDS' } as const

/** The controller's objects for this cluster, in the order they are applied: its rights before its pod. */
export function renderAutoscaler(manifests: ClusterManifests, options: { image: string; namespace: string; range: WorkerRange; idleSeconds: number }): KubernetesObject[] {
  const { serviceAccount, role, roleBinding, deployment } = manifests.autoscaler
  const rendered = withNamespace(deployment, options.namespace)
  const container = mainContainer(rendered)
  container.image = options.image
  setEnv(container, autoscalerEnv.min, String(options.range.min))
  setEnv(container, autoscalerEnv.max, String(options.range.max))
  setEnv(container, autoscalerEnv.idleSeconds, String(options.idleSeconds))
  return [...[serviceAccount, role, roleBinding].map((object) => withNamespace(object, options.namespace)), rendered]
}

/** The range and idle time a live controller's Deployment runs with. */
export function autoscalerSettings(deployment: V1Deployment): WorkerRange & { idleSeconds: number } {
  const container = mainContainer(deployment)
  const read = (name: string) => Number(envValue(container, name))
  return { min: read(autoscalerEnv.min), max: read(autoscalerEnv.max), idleSeconds: read(autoscalerEnv.idleSeconds) }
}

/** The port a server listens on: its Service's first port, resolved to the container's. */
export function serverPort(server: ServerManifests): number {
  const port = server.service.spec?.ports?.[0]
  const target = port?.targetPort ?? port?.port
  const containerPort = typeof target === 'number' ? target : mainContainer(server.deployment).ports?.find((p) => p.name === target)?.containerPort
  if (!containerPort) throw new Error(`the ${server.service.metadata?.name} Service has no port that resolves to a container port`)
  return containerPort
}

function withNamespace<T extends KubernetesObject>(object: T, namespace: string): T {
  const copy = structuredClone(object)
  copy.metadata = { ...copy.metadata, namespace }
  return copy
}

export const managedByLabel = 'app.kubernetes.io/managed-by'

/**
 * The labels every object of the cluster carries: the classic app=spark plus our managed-by label.
 * Teardown and listings select by both, so an unrelated app=spark object is never touched.
 */
export function ourLabels(manifests: ClusterManifests): Record<string, string> {
  const labels = manifests.master.metadata!.labels!
  return { app: labels.app, [managedByLabel]: labels[managedByLabel] }
}

/**
 * The selector of a workload's own pods: its pod template's labels (app, role and our managed-by),
 * so a same-labelled pod of someone else's (app=spark,role=master) is never what a forward reaches.
 */
export function podsOf(workload: V1Deployment): string {
  return selectorOf(podTemplate(workload).metadata!.labels!)
}

/**
 * The roles of the pods that run a driver (pi, submit and shell pods, the Spark Connect server,
 * JupyterLab): those the PodMonitor that selects pi's driver selects, so `status` and Prometheus
 * agree on what a driver is.
 */
export function driverRoles(manifests: ClusterManifests): string[] {
  const selected = (monitor: KubernetesObject): string[] => {
    const selector = (monitor as { spec?: { selector?: V1LabelSelector } }).spec?.selector
    const role = selector?.matchLabels?.role
    return role ? [role] : (selector?.matchExpressions?.find((e) => e.key === 'role' && e.operator === 'In')?.values ?? [])
  }
  const piRole = podTemplate(manifests.piJob).metadata!.labels!.role
  const drivers = manifests.podMonitors.find((monitor) => selected(monitor).includes(piRole))
  if (!drivers) throw new Error(`manifests/monitoring/: no PodMonitor selects role=${piRole}, pi's driver`)
  return selected(drivers)
}

/** A label selector string (app=spark,role=worker) from a labels map. */
export function selectorOf(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',')
}
