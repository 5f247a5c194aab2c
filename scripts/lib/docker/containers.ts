import { createHash } from 'node:crypto'
import type { V1Deployment, V1PersistentVolumeClaim, V1PodTemplateSpec } from '@kubernetes/client-node'
import { authConfAnnotation } from '../cluster-secret.ts'
import { ourLabels, podTemplate, type ClusterManifests, type ClusterShape, type PublishedPort } from '../manifests.ts'
import { StepError } from '../errors.ts'
import { run } from '../proc.ts'
import { storageAnnotation } from '../storage.ts'
import { kubeCpuToCores, kubeQuantityToBytes } from '../units.ts'

/** Docker labels of our own: a hash of the run arguments (to see drift), the worker shape (for scale), the image as the tool names it. */
export const specHashLabel = 'io.spark-standalone-k8s.spec-hash'
export const shapeLabel = 'io.spark-standalone-k8s.shape'
export const imageLabel = 'io.spark-standalone-k8s.image'

/**
 * The image as `docker run` and the Engine API take it. The Docker runtime pins what it built as
 * `name:tag@<image ID>` (the tag for people and for the version readers, the ID for the engine):
 * the engine runs the ID, which a later re-tag of the name cannot move.
 */
export function runnable(image: string): string {
  const at = image.indexOf('@')
  return at < 0 ? image : image.slice(at + 1)
}

/** The ID (sha256:<config digest>) of the image this machine's Docker engine holds under the reference. */
export async function localImageId(reference: string): Promise<string> {
  return (await run`docker image inspect --format ${'{{.Id}}'} ${reference}`).stdout.trim()
}

/** The local image's ID, pinned to its name (see runnable). */
export async function pinnedLocally(reference: string): Promise<string> {
  return `${reference}@${await localImageId(reference)}`
}

export interface ContainerPlan {
  name: string
  /** Arguments after `docker run`. */
  runArgs: string[]
  specHash: string
}

export interface PlanOptions {
  name: string
  network: string
  aliases?: string[]
  publish?: PublishedPort[]
  /** Deployment pods come back when they die; a Job's driver does not. */
  restart: boolean
  /** In the foreground (output to the caller, exit code returned) and removed at its end, as a Job's pod. */
  attached?: boolean
  labels?: Record<string, string>
  /** The engine's CPUs: Docker refuses a cpu limit above them, so a higher one (the master's burst) is cut to them. */
  engineCpus?: number
}

/**
 * Translates a pod template into `docker run` arguments: the same image, command, env, labels,
 * user, capabilities and limits a kubelet would give the pod. NodePorts are published on
 * 127.0.0.1 only: an unauthenticated Spark master must not face the network.
 */
export function planContainer(template: V1PodTemplateSpec, options: PlanOptions): ContainerPlan {
  const pod = template.spec!
  const container = pod.containers[0]
  const args: string[] = [options.attached ? '--rm' : '--detach', '--name', options.name, '--hostname', options.name, '--network', options.network]
  for (const alias of options.aliases ?? []) args.push('--network-alias', alias)
  for (const port of options.publish ?? []) args.push('--publish', `127.0.0.1:${port.nodePort}:${port.containerPort}`)
  if (options.restart) args.push('--restart', 'unless-stopped')

  // Annotations too: Docker has only labels, and a template's annotations (the conf digest) are part of its spec.
  // In key order: the spec hash covers the arguments, so the order the steps added them in must not count.
  const labels = { ...template.metadata?.labels, ...template.metadata?.annotations, ...options.labels }
  args.push(...labelArgs(Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))))
  for (const variable of container.env ?? []) {
    // The pod's IP from the downward API: on Docker's network the container's own name resolves.
    if (variable.valueFrom?.fieldRef?.fieldPath === 'status.podIP') continue
    if (variable.value === undefined) throw new Error(`env ${variable.name}: only literal values run on Docker`)
    args.push('--env', `${variable.name}=${variable.value}`)
  }

  const security = { ...pod.securityContext, ...container.securityContext }
  if (security.runAsUser !== undefined) args.push('--user', `${security.runAsUser}:${security.runAsGroup ?? 0}`)
  for (const group of pod.securityContext?.supplementalGroups ?? []) args.push('--group-add', String(group))
  for (const capability of container.securityContext?.capabilities?.drop ?? []) args.push('--cap-drop', capability)
  if (security.allowPrivilegeEscalation === false) args.push('--security-opt', 'no-new-privileges')
  if (security.readOnlyRootFilesystem) args.push('--read-only')

  // Secret, ConfigMap and claim volumes become the Docker volume of that name (secret.ts, driver.ts
  // and apply.ts make them), a hostPath a bind mount; emptyDirs a tmpfs with the same size limit (writable by
  // any user, like an emptyDir). `exec` as an emptyDir has it: Docker's tmpfs default is noexec, and
  // Spark's zstd and snappy load the native libraries they unpack into /tmp (without it every
  // shuffle hangs).
  let tmpfsBytes = 0
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === mount.name)
    const named = volume?.secret?.secretName ?? volume?.configMap?.name ?? volume?.persistentVolumeClaim?.claimName
    if (named) {
      args.push('--mount', `type=volume,source=${named},target=${mount.mountPath}${mount.readOnly ? ',readonly' : ''}`)
    } else if (volume?.hostPath) {
      // A folder of this machine (the data folder): bound as it is, as a node's hostPath would be.
      // --mount is one CSV record: a folder name with a comma or a quote is quoted, as CSV quotes.
      args.push('--mount', `type=bind,"source=${volume.hostPath.path.replaceAll('"', '""')}",target=${mount.mountPath}${mount.readOnly ? ',readonly' : ''}`)
    } else if (volume?.emptyDir) {
      const bytes = volume.emptyDir.sizeLimit ? kubeQuantityToBytes(String(volume.emptyDir.sizeLimit)) : 0
      tmpfsBytes += bytes
      args.push('--tmpfs', `${mount.mountPath}:${bytes ? `size=${bytes},` : ''}exec`)
    } else {
      throw new Error(`volume ${mount.name}: only Secret, ConfigMap, PersistentVolumeClaim, hostPath and emptyDir volumes run on Docker`)
    }
  }

  // A tcpSocket readiness probe becomes Docker's health check, so "ready" means the same on both.
  const tcpProbe = container.readinessProbe?.tcpSocket
  if (tcpProbe) {
    const port = typeof tcpProbe.port === 'number' ? tcpProbe.port : container.ports?.find((p) => p.name === tcpProbe.port)?.containerPort
    if (!port) throw new Error(`container ${container.name}: readiness probe port ${tcpProbe.port} is not a container port`)
    args.push('--health-cmd', `bash -c ':</dev/tcp/127.0.0.1/${port}'`, '--health-interval', `${container.readinessProbe!.periodSeconds ?? 10}s`)
    args.push('--health-start-period', `${container.readinessProbe!.initialDelaySeconds ?? 0}s`)
  }

  if (container.workingDir) args.push('--workdir', container.workingDir)

  // A tmpfs's pages are charged to the container's memory, where an emptyDir's are on the node's
  // disk: the memory limit grows by what the tmpfs may hold, so a full scratch dir is not an OOM kill.
  const limits = container.resources?.limits ?? {}
  if (limits.memory) args.push('--memory', `${kubeQuantityToBytes(String(limits.memory)) + tmpfsBytes}b`)
  if (limits.cpu) args.push('--cpus', String(Math.min(kubeCpuToCores(limits.cpu), options.engineCpus ?? Infinity)))

  const [entrypoint, ...commandRest] = container.command ?? []
  if (entrypoint) args.push('--entrypoint', entrypoint)
  args.push('--label', `${imageLabel}=${container.image}`)
  const specHash = createHash('sha256').update(JSON.stringify([args, container.image, commandRest, container.args])).digest('hex').slice(0, 12)
  args.push('--label', `${specHashLabel}=${specHash}`, runnable(container.image!), ...commandRest, ...(container.args ?? []))
  return { name: options.name, runArgs: args, specHash }
}

export interface ContainerSummary {
  id: string
  name: string
  state: string
  status: string
  image: string
  specHash: string
  labels: Record<string, string>
}

/** `--label k=v` for each label, as `docker run`, `network create` and `volume create` take them. */
export function labelArgs(labels: Record<string, string>): string[] {
  return Object.entries(labels).flatMap(([key, value]) => ['--label', `${key}=${value}`])
}

/** `--filter label=k=v` for each label: Docker ANDs repeated filters (a comma-joined selector would be one odd value). */
function labelFilters(labels: Record<string, string>): string[] {
  return Object.entries(labels).flatMap(([key, value]) => ['--filter', `label=${key}=${value}`])
}

/** Containers (running or not) carrying every given label. */
export async function listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
  const filters = labelFilters(labels)
  // The labels we read, one field each: {{.Labels}} joins all with commas, and label values may hold commas.
  const wanted = ['app', 'role', shapeLabel, authConfAnnotation, storageAnnotation]
  // The image as the tool named it (a pinned one runs by its ID, which is all {{.Image}} would say).
  const format = ['{{.ID}}', '{{.Names}}', '{{.State}}', '{{.Status}}', `{{or (.Label "${imageLabel}") .Image}}`, `{{.Label "${specHashLabel}"}}`, ...wanted.map((key) => `{{.Label "${key}"}}`)].join('\t')
  const output = await run`docker ps --all --no-trunc ${filters} --format ${format}`
  return output.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id, name, state, status, image, specHash, ...values] = line.split('\t')
      const parsedLabels = Object.fromEntries(wanted.map((key, i) => [key, values[i] ?? '']).filter(([, value]) => value !== ''))
      return { id, name, state, status, image, specHash, labels: parsedLabels }
    })
    .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))
}

export type ContainerChange = 'unchanged' | 'started' | 'replaced' | 'created' | 'removed'

/** Makes the named container run exactly `plan`; leaves a matching running one alone. */
export async function ensureContainer(plan: ContainerPlan, existing: ContainerSummary | undefined): Promise<ContainerChange> {
  if (existing && existing.specHash === plan.specHash) {
    if (existing.state === 'running') return 'unchanged'
    await run`docker start ${plan.name}`
    return 'started'
  }
  if (existing) await run`docker rm --force ${plan.name}`
  await run`docker run ${plan.runArgs}`
  return existing ? 'replaced' : 'created'
}

/**
 * The cluster's network: created with our labels when missing (true), kept when it carries them
 * (false). A same-named network without them is someone else's: its other containers would share
 * the master's network, so it is refused.
 */
export async function ensureNetwork(name: string, labels: Record<string, string>): Promise<boolean> {
  const found = await run({ nothrow: true })`docker network inspect --format ${'{{json .Labels}}'} ${name}`
  if (found.exitCode === 0) {
    requireOurs(`network ${name}`, found.stdout, labels)
    return false
  }
  await run`docker network create ${labelArgs(labels)} ${name}`
  return true
}

/** Refuses a Docker object whose labels (as `inspect --format {{json .Labels}}` prints them) lack `owner`'s. */
function requireOurs(what: string, labelsJson: string, owner: Record<string, string>): void {
  const theirs = JSON.parse(labelsJson || 'null') as Record<string, string> | null
  if (Object.entries(owner).every(([key, value]) => theirs?.[key] === value)) return
  throw new StepError(`a Docker ${what} exists without our labels: refusing to use it`, '  - it belongs to someone else: remove or rename it')
}

/**
 * A volume of ours: created with the `owner` labels (plus `labels`) when missing (true), kept when it
 * carries them (false). A same-named volume without them belongs to someone else and is refused.
 */
export async function ensureLabelledVolume(name: string, labels: Record<string, string>, owner: Record<string, string>): Promise<boolean> {
  const found = await run({ nothrow: true })`docker volume inspect --format ${'{{json .Labels}}'} ${name}`
  if (found.exitCode === 0) {
    requireOurs(`volume ${name}`, found.stdout, owner)
    return false
  }
  await run`docker volume create ${labelArgs({ ...owner, ...labels })} ${name}`
  return true
}

export async function imageExists(reference: string): Promise<boolean> {
  return (await run({ nothrow: true })`docker image inspect ${reference}`).exitCode === 0
}

/** The Docker side of the manifests: network named after the app label, containers after the Deployments. */
export interface DockerLayout {
  network: string
  ourLabels: Record<string, string>
  masterName: string
  masterAliases: string[]
  workerName: (index: number) => string
}

export function dockerLayout(manifests: ClusterManifests): DockerLayout {
  const labels = ourLabels(manifests)
  return {
    network: labels.app,
    ourLabels: labels,
    masterName: manifests.master.metadata!.name!,
    masterAliases: [manifests.service.metadata!.name!],
    workerName: (index) => `${manifests.worker.metadata!.name}-${index}`,
  }
}

/** Worker shape kept on each container, so scale can add identical workers: cores;memory;image. */
export function encodeShape(shape: Pick<ClusterShape, 'workerCores' | 'workerMemory' | 'image'>): string {
  return `${shape.workerCores};${shape.workerMemory};${shape.image}`
}

export function decodeShape(label: string | undefined): Pick<ClusterShape, 'workerCores' | 'workerMemory' | 'image'> | undefined {
  const [cores, memory, image] = (label ?? '').split(';')
  return image ? { workerCores: Number(cores), workerMemory: memory, image } : undefined
}

/** Plans for workers 1..count from the rendered worker Deployment. */
export function workerPlans(worker: V1Deployment, layout: DockerLayout, count: number, shapeText: string): ContainerPlan[] {
  return Array.from({ length: count }, (_, i) =>
    planContainer(podTemplate(worker), { name: layout.workerName(i + 1), network: layout.network, restart: true, labels: { [shapeLabel]: shapeText } }),
  )
}

/** How a pod's container is stopped: its preStop command, and the grace period that bounds it. */
export interface StopPlan {
  preStop?: string[]
  graceSeconds: number
}

export function stopPlan(template: V1PodTemplateSpec): StopPlan {
  const pod = template.spec!
  // Kubernetes' default grace period when the pod names none.
  return { preStop: pod.containers[0].lifecycle?.preStop?.exec?.command, graceSeconds: pod.terminationGracePeriodSeconds ?? 30 }
}

/**
 * Removes containers the way a kubelet ends a pod: each one's preStop hook runs inside it first
 * (the workers' decommission), all at once, each cut off at the grace period; then they go.
 */
export async function retireContainers(names: string[], stop: StopPlan): Promise<void> {
  if (names.length === 0) return
  if (stop.preStop) await Promise.all(names.map((name) => run({ nothrow: true, timeout: stop.graceSeconds * 1000 })`docker exec ${name} ${stop.preStop}`))
  await run`docker rm --force ${names}`
}

/** Brings the worker containers to exactly `plans`: extra ones retired, missing or drifted ones (re)created. */
export async function reconcileWorkers(plans: ContainerPlan[], existing: ContainerSummary[], stop: StopPlan): Promise<Array<[string, ContainerChange]>> {
  const wanted = new Set(plans.map((plan) => plan.name))
  const extra = existing.filter((container) => !wanted.has(container.name)).map((container) => container.name)
  await retireContainers(extra, stop)
  const changes = await Promise.all(plans.map((plan) => ensureContainer(plan, existing.find((c) => c.name === plan.name))))
  return [...plans.map((plan, i): [string, ContainerChange] => [plan.name, changes[i]]), ...extra.map((name): [string, ContainerChange] => [name, 'removed'])]
}

/** "spark-worker-3 created, spark-worker-4 removed"; empty when nothing changed. */
export function describeChanges(changes: Array<[string, ContainerChange]>): string {
  return changes
    .filter(([, change]) => change !== 'unchanged')
    .map(([name, change]) => `${name} ${change}`)
    .join(', ')
}

/**
 * Docker's home for a pod's PersistentVolumeClaims: a labelled volume of the claim's name, kept
 * across `cluster:up`s and removed by `cluster:down`. A new volume's root is root's; it is handed to
 * the pod's user, as a provisioner's fsGroup would. Returns the names it created.
 */
export async function ensureClaimVolumes(template: V1PodTemplateSpec, labels: Record<string, string>, image: string): Promise<string[]> {
  const security = template.spec?.securityContext
  const owner = `${security?.runAsUser ?? 0}:${security?.runAsGroup ?? 0}`
  const created: string[] = []
  for (const volume of template.spec?.volumes ?? []) {
    const name = volume.persistentVolumeClaim?.claimName
    if (!name || !(await ensureLabelledVolume(name, { role: template.metadata?.labels?.role ?? '' }, labels))) continue
    // Removed again if it cannot be handed over: a later run would take a labelled volume as ready.
    await run`docker run --rm --network none --user 0:0 --volume ${`${name}:/claim`} --entrypoint sh ${runnable(image)} -c ${`chown ${owner} /claim && chmod 0770 /claim`}`.catch(async (error: unknown) => {
      await run({ nothrow: true })`docker volume rm ${name}`
      throw error
    })
    created.push(name)
  }
  return created
}

/** A server's own claims (rendered.claims) as its pod template mounts them: the labelled volumes to make. */
export function ownClaimsTemplate(template: V1PodTemplateSpec, claims: V1PersistentVolumeClaim[]): V1PodTemplateSpec {
  const names = new Set(claims.map((claim) => claim.metadata!.name!))
  return { ...template, spec: { ...template.spec!, volumes: template.spec!.volumes?.filter((volume) => names.has(volume.persistentVolumeClaim?.claimName ?? '')) } }
}
