import { createHash, randomBytes } from 'node:crypto'
import type { V1PodTemplateSpec, V1Volume, V1VolumeMount } from '@kubernetes/client-node'
import { mainContainer, type ClusterManifests } from './manifests.ts'
import { parseProperties, propertyLine } from './properties.ts'
import { s3ConfKeys, s3ConfLines, s3EndpointKey, shownEndpoint, type S3Settings } from './s3.ts'

/**
 * Every Spark process of the cluster (master, workers, the drivers the tool starts) reads its RPC
 * settings from a spark-defaults.conf that the pod templates mount from one Secret volume. The
 * file holds the cluster's shared secret, so it is made here, at run time, and never enters git,
 * a command line or an env var: on Kubernetes a Secret, on Docker a volume of that name.
 */
export interface AuthVolume {
  /** The Secret's name on Kubernetes, the volume's name on Docker (the manifests' secretName). */
  name: string
  /** The file inside it, as SPARK_CONF_DIR expects. */
  file: string
  mountPath: string
}

export const authConfFile = 'spark-defaults.conf'

/** The Secret volume the master's pod template mounts: the manifests name it, code never retypes it. */
export function authVolume(manifests: ClusterManifests): AuthVolume {
  const pod = manifests.master.spec!.template.spec!
  const volume = pod.volumes?.find((v: V1Volume) => v.secret?.secretName)
  const mount = mainContainer(manifests.master).volumeMounts?.find((m: V1VolumeMount) => m.name === volume?.name)
  if (!volume || !mount) throw new Error('the master pod template mounts no Secret volume for its spark-defaults.conf')
  return { name: volume.secret!.secretName!, file: authConfFile, mountPath: mount.mountPath }
}

/** What the cluster's conf turns on besides its two random values; `cluster:up` flags choose them. */
export interface AuthSettings {
  /** spark.ui.killEnabled: whether the master's and the applications' UIs may kill work (off by default). */
  uiKill: boolean
  /** Each worker's cores (--worker-cores): what one executor of the drivers' takes (dynamicAllocationConf). */
  workerCores: number
  /** The S3-compatible server s3a:// paths go to, with its credentials (undefined: none). */
  s3?: S3Settings
}

const secretKey = 'spark.authenticate.secret'
const connectTokenKey = 'spark.connect.authenticate.token'
/** Not Spark's: JupyterLab's token (`npm run notebook`), which its in-image config reads from this file. */
const notebookTokenKey = 'spark.notebook.token'

const randomHex = () => randomBytes(32).toString('hex')

/**
 * Prometheus text from every Spark UI, with Spark's own PrometheusServlet (no agent jar): Spark's
 * MetricsConfig reads spark.metrics.conf.<instance>.sink.<name>.<property> from this conf. Workers
 * and drivers serve /metrics/prometheus/; the master's two instances (its own, and its applications')
 * each need a path of their own, as Spark's default JSON servlet has. Drivers add their executors'
 * metrics at /metrics/executors/prometheus/. The History Server serves none: Spark 4.3's starts no
 * metrics system (its HistoryServer class never references MetricsSystem).
 */
export const metricsConf: ReadonlyArray<[string, string]> = [
  ['spark.metrics.conf.*.sink.prometheusServlet.class', 'org.apache.spark.metrics.sink.PrometheusServlet'],
  ['spark.metrics.conf.*.sink.prometheusServlet.path', '/metrics/prometheus'],
  ['spark.metrics.conf.master.sink.prometheusServlet.path', '/metrics/master/prometheus'],
  ['spark.metrics.conf.applications.sink.prometheusServlet.path', '/metrics/applications/prometheus'],
  ['spark.ui.prometheus.enabled', 'true'],
]

/**
 * How every driver the tool starts asks for executors (pi, submit and shell read only this file;
 * Connect and JupyterLab set the same on their command lines, but for how many executors they start
 * with: the Connect server none, a notebook kernel two): by dynamic allocation, so one
 * application cannot hold every core for as long as it runs, and one that waits says how many
 * executors it wants, which is what the elastic workers' controller (manifests/elastic/) reads.
 * - One executor takes a worker's cores (--worker-cores): the driver then wants as many executors
 *   as it needs workers, and no core of a worker is left that no executor can use.
 * - One executor is asked for with the driver: it starts while the driver's code gets to its first job,
 *   instead of a second after that job waits (Spark's default starts none).
 * - An idle executor goes after 30 s: its cores go to the next application, or its worker away.
 * - Shuffle tracking (there is no external shuffle service) keeps an executor whose shuffle output
 *   a later stage may read, but for 60 s only: a long session's old results would hold it for ever,
 *   and one that goes is decommissioned (the drivers' spark.decommission.enabled), handing its
 *   shuffle blocks to the others first.
 * - Executors holding cached blocks go after 12 h idle (Spark keeps them for ever): the workers'
 *   shared work dir loses a folder nothing wrote to for 13 h (spark-worker.yml).
 * A spark-submit --conf (npm run submit -- --conf spark.dynamicAllocation.enabled=false …) still
 * wins over this file, for one application.
 */
export function dynamicAllocationConf(workerCores: number): Array<[string, string]> {
  return [
    ['spark.dynamicAllocation.enabled', 'true'],
    ['spark.dynamicAllocation.shuffleTracking.enabled', 'true'],
    ['spark.dynamicAllocation.shuffleTracking.timeout', '60s'],
    ['spark.dynamicAllocation.initialExecutors', '1'],
    ['spark.dynamicAllocation.executorIdleTimeout', '30s'],
    ['spark.dynamicAllocation.cachedExecutorIdleTimeout', '12h'],
    ['spark.executor.cores', String(workerCores)],
  ]
}

/**
 * The conf as Spark reads it: Properties.load (escapes, continuations and all; the last line of a
 * key wins), then each value trimmed of blanks but not of line breaks. Undefined when Java refuses
 * the file (a malformed \u escape): no Spark process would start.
 */
function sparkProperties(conf: string): Map<string, string> | undefined {
  const lines = parseProperties(conf)
  if (lines.some((line) => line.malformed)) return undefined
  const trimmed = (value: string) => value.replace(/^[\x00-\x09\x0b\x0c\x0e-\x20]+|[\x00-\x09\x0b\x0c\x0e-\x20]+$/g, '')
  return new Map(lines.filter((line) => line.key !== undefined).map((line) => [line.key!, trimmed(line.value!)]))
}

/** The value Spark reads for `key`; undefined when it has none, or an empty one. */
function propertyOf(conf: string, key: string): string | undefined {
  return sparkProperties(conf)?.get(key) || undefined
}

/**
 * RPC authentication with a 256-bit shared secret, and AES-GCM encryption of all RPC traffic (GCM
 * authenticates each message; the default CTR mode does not) with no fallback to the older SASL
 * scheme. Plus the tokens Spark Connect clients and JupyterLab's browser must present: random values
 * of their own, so the one a laptop holds is not the RPC secret. The UIs' kill links are off unless asked for. And the S3
 * server's address and keys when `cluster:up` was given one (scripts/lib/s3.ts). And the metrics
 * servlets (metricsConf), and how drivers ask for executors (dynamicAllocationConf): a conf from
 * before them is updated by the next `cluster:up`.
 */
export function sparkAuthConf(settings: AuthSettings = { uiKill: false, workerCores: 1 }, secret: string = randomHex(), connectToken: string = randomHex(), notebookToken: string = randomHex()): string {
  const settingsLines: Array<[string, string]> = [
    ['spark.authenticate', 'true'],
    [secretKey, secret],
    ['spark.network.crypto.enabled', 'true'],
    ['spark.network.crypto.cipher', 'AES/GCM/NoPadding'],
    ['spark.network.crypto.saslFallback', 'false'],
    ['spark.ui.killEnabled', String(settings.uiKill)],
    [connectTokenKey, connectToken],
    [notebookTokenKey, notebookToken],
    ...metricsConf,
    ...dynamicAllocationConf(settings.workerCores),
  ]
  return [...settingsLines.map(([key, value]) => propertyLine(key, value)), ...s3ConfLines(settings.s3), ''].join('\n')
}

/**
 * Why a live conf cannot run the cluster, or undefined when it can. Spark starts happily on an
 * empty SPARK_CONF_DIR, with no authentication at all: what an interrupted first `cluster:up` or a
 * hand-made Secret may leave.
 */
export function authConfProblem(conf: string | undefined): string | undefined {
  if (conf === undefined) return 'it holds no spark-defaults.conf'
  if (conf.trim() === '') return 'its spark-defaults.conf is empty'
  const properties = sparkProperties(conf)
  if (!properties) return 'its spark-defaults.conf has a \\u escape Java cannot read, so Spark would not start'
  if (properties.get('spark.authenticate') !== 'true') return 'its spark-defaults.conf does not set spark.authenticate true'
  if (!properties.get(secretKey)) return `its spark-defaults.conf holds no ${secretKey}`
  return undefined
}

/** The conf to run with, and what became of the live one. */
export interface PlannedAuthConf {
  conf: string
  /** created: there was none; repaired: the live one could not be used (why); updated: settings changed, the secret kept. */
  change?: { kind: 'created' } | { kind: 'repaired'; why: string } | { kind: 'updated' }
}

/**
 * The conf the cluster should have: the live one's secret and tokens (a second `cluster:up` keeps
 * them, and changes nothing) with today's settings; a new random one where there is none
 * (`live` undefined: no Secret or volume) or the live one is unusable.
 */
export function plannedAuthConf(live: { conf?: string } | undefined, settings: AuthSettings): PlannedAuthConf {
  if (!live) return { conf: sparkAuthConf(settings), change: { kind: 'created' } }
  const problem = authConfProblem(live.conf)
  if (problem) return { conf: sparkAuthConf(settings) + ownLines(live.conf), change: { kind: 'repaired', why: problem } }
  const conf = sparkAuthConf(settings, propertyOf(live.conf!, secretKey), connectTokenOf(live.conf!) ?? randomHex(), notebookTokenOf(live.conf!) ?? randomHex()) + ownLines(live.conf)
  return conf === live.conf ? { conf } : { conf, change: { kind: 'updated' } }
}

/** The keys sparkAuthConf writes; a live conf's value for them is the tool's to set. */
const managedKeys = new Set([...parseProperties(sparkAuthConf()).map((line) => line.key!), ...s3ConfKeys])

/**
 * The lines a user added to the live conf (cluster-wide settings of their own, comments), kept
 * after ours. A line Java reads as one of our keys, however it is spelled (`spark\.authenticate`),
 * is not theirs to set; one Java cannot read at all is dropped.
 */
function ownLines(conf: string | undefined): string {
  const own = parseProperties(conf ?? '').filter((line) => !line.malformed && (line.key === undefined || !managedKeys.has(line.key)))
  return own.map((line) => `${line.text}\n`).join('')
}

/** "secret volume spark-auth repaired (its spark-defaults.conf is empty)" and the like; empty when nothing changed. */
export function describeAuthChange(what: string, change: PlannedAuthConf['change']): string {
  if (!change) return ''
  if (change.kind === 'repaired') return `${what} repaired (${change.why}): a new secret`
  return change.kind === 'created' ? `${what} created` : `${what} updated (settings changed, the secret kept)`
}

/**
 * The pod template annotation that names the conf the pods start with (a digest, never the
 * secret): a changed conf changes the template, so Kubernetes rolls the pods and Docker replaces
 * the containers. Spark reads the conf only when a process starts.
 */
export const authConfAnnotation = 'spark-standalone-k8s/auth-conf'

export function authConfDigest(conf: string): string {
  return createHash('sha256').update(conf).digest('hex').slice(0, 16)
}

export function withAuthConf<T extends { spec?: { template?: V1PodTemplateSpec } }>(workload: T, conf: string): T {
  return withAuthConfDigest(workload, authConfDigest(conf))
}

/** The same, from the digest a running pod or container carries (scale copies it to new workers). */
export function withAuthConfDigest<T extends { spec?: { template?: V1PodTemplateSpec } }>(workload: T, digest: string): T {
  const template = workload.spec!.template!
  template.metadata = { ...template.metadata, annotations: { ...template.metadata?.annotations, [authConfAnnotation]: digest } }
  return workload
}

/** The token a Spark Connect client must send (sc://…/;token=…). */
export function connectTokenOf(conf: string): string | undefined {
  return propertyOf(conf, connectTokenKey)
}

/** The token JupyterLab asks its browser for (http://localhost:8888/lab?token=…). */
export function notebookTokenOf(conf: string): string | undefined {
  return propertyOf(conf, notebookTokenKey)
}

/** The S3 server the cluster's conf sends s3a:// paths to, as status may show it (undefined: none). */
export function s3EndpointOf(conf: string): string | undefined {
  const endpoint = propertyOf(conf, s3EndpointKey)
  return endpoint && shownEndpoint(endpoint)
}

/** The secret in a spark-defaults.conf made by sparkAuthConf (for tests that look for leaks). */
export function secretOf(conf: string): string | undefined {
  return propertyOf(conf, secretKey)
}
