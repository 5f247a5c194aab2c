import { readFileSync, realpathSync, statSync } from 'node:fs'
import { posix, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { dataFolderProblem } from './data-folder.ts'
import { idleForm, parseIdle, parseWorkers, workersForm, type WorkerRange } from './elastic.ts'
import { UsageError } from './errors.ts'
import { loadManifests, workerDefaults, type ClusterManifests } from './manifests.ts'
import { profileNameProblem } from './kube/minikube.ts'
import { imagePythons } from './python-version.ts'
import { parseS3CredentialsFile, parseS3Endpoint, parseS3Region, s3Settings, type S3Settings } from './s3.ts'
import { sparkMemoryToMebibytes } from './units.ts'

export const commands = ['up', 'pi', 'scale', 'status', 'ui', 'history', 'connect', 'notebook', 'submit', 'shell', 'logs', 'down'] as const
export type Command = (typeof commands)[number]
export type PlatformChoice = 'auto' | 'minikube' | 'kubernetes' | 'docker'
export type Platform = Exclude<PlatformChoice, 'auto'>
/** What `cluster:down --role` may remove alone. */
export type DeletableRole = 'master' | 'worker' | 'connect' | 'history' | 'notebook'

export interface Config {
  command: Command
  platform: PlatformChoice
  /** up: the workers to start with (with a range, kept inside it: see elastic.ts); scale: the fixed count. */
  workers: number
  /** up: --workers MIN..MAX, the range a controller in the cluster keeps the count inside (undefined: fixed). */
  workerRange?: WorkerRange
  /** up: how long a worker runs no executor before the controller removes it (with a range). */
  workerIdleSeconds: number
  workerCores: number
  workerMemory: string
  sparkVersion: string
  sparkDist: 'apache' | 'pypi'
  baseImage?: string
  /**
   * up: the image's Python minor version (undefined: this machine's python3 when the image can run
   * it, else 3.11; see python-version.ts). connect: the one the client runs (undefined: python3's).
   */
  python?: string
  /** up: pip requirements baked into the image, from --pip and --requirements, one per line. */
  pipRequirements: string[]
  /** up: Maven coordinates group:artifact:version whose jars (and dependencies') the image carries. */
  packages: string[]
  image: string
  registry?: string
  profile: string
  namespace: string
  context?: string
  timeoutSeconds: number
  json: boolean
  partitions?: number
  role?: DeletableRole
  keepMinikube: boolean
  /** down: also delete the notebooks volume or claim of the tool's own (kept otherwise). */
  deleteNotebooks: boolean
  /** spark.ui.killEnabled in the cluster's conf (off: whoever reaches a UI could kill work). */
  uiKill: boolean
  /** up: a folder of this machine mounted read-write at dataPath in every member and driver (Docker, minikube). */
  data?: string
  /** up: an existing PersistentVolumeClaim mounted there instead (Kubernetes, minikube). */
  dataClaim?: string
  /** Where the data folder or claim appears inside the containers. */
  dataPath: string
  /** up: the S3-compatible server s3a:// paths go to, the region signed for, an AWS credentials file. */
  s3Endpoint?: string
  s3Region?: string
  s3Credentials?: string
  /** up: what those become in the cluster's conf (undefined: no S3). */
  s3?: S3Settings
  /** How the master Service is reached (undefined: nodeport on minikube, clusterip on kubernetes). */
  expose?: 'nodeport' | 'clusterip'
  /** npm run ui / history / connect / notebook: the local port (undefined: the server's own, or any free one when that is taken). */
  port?: number
  open: boolean
  /** npm run submit: the user's Python file, its arguments (verbatim), and what spark-submit gets besides. */
  app?: string
  appArgs: string[]
  pyFiles: string[]
  files: string[]
  confs: string[]
  /** npm run logs: the application whose kept logs to print, and one executor's id (undefined: the driver's log). */
  appId?: string
  executor?: number
  help: boolean
}

type Key = Exclude<keyof Config, 'command' | 'help' | 'app' | 'appArgs' | 's3' | 'appId' | 'workerRange'>

interface OptionSpec {
  key: Key
  flag: string
  env?: string
  boolean?: true
  /** May be given more than once (--conf a=1 --conf b=2). */
  multiple?: true
  /** Its list adds to what another flag of the same key gave, rather than replacing it. */
  adds?: true
  /** The accepted form, as the error and --help say it. */
  form: string
  help: string
  commands: readonly Command[]
  parse?: (raw: string, flag: string) => unknown
}

const clusterCommands: readonly Command[] = commands
const driverCommands: readonly Command[] = ['submit']
const buildCommands: readonly Command[] = ['up']

const wholeNumber = (min: number, max: number) => (raw: string, flag: string) => {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max} (got "${raw}")`)
  }
  return Number(raw)
}

const matching = (pattern: RegExp, form: string) => (raw: string, flag: string) => {
  if (!pattern.test(raw)) throw new UsageError(`${flag} must be ${form} (got "${raw}")`)
  return raw
}

const oneOf = (values: readonly string[]) => matching(new RegExp(`^(${values.join('|')})$`), `one of ${values.join(', ')}`)

/** A standalone master's application ids: app-<start, yyyyMMddHHmmss>-<a number from 0000>. */
const appIdPattern = /^app-\d{14}-\d{4,}$/
const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/
const imageRepository = /^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/
const registryHost = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/

function parseSparkVersion(raw: string, flag: string): string {
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(raw)
  const [major, minor] = match ? [Number(match[1]), Number(match[2])] : [0, 0]
  const patch = match ? Number(match[3]) : 0
  // 3.5.2 is the first release with authenticated (AES-GCM) RPC encryption, which the cluster's conf turns on.
  if (!match || major < 3 || (major === 3 && (minor < 5 || (minor === 5 && patch < 2))) || major > 4) {
    throw new UsageError(`${flag} must be a full Spark release from 3.5.2 to 4.x, like 4.3.0 or 3.5.9 (got "${raw}")`)
  }
  return raw
}

/** minikube's own rule for profile names (see scripts/lib/kube/minikube.ts), checked before anything runs. */
function parseProfile(raw: string, flag: string): string {
  const problem = profileNameProblem(raw)
  if (problem) throw new UsageError(`${flag}: ${problem}`)
  return raw
}

/** Spark keeps a worker's memory in MiB in a 32-bit int (the master's /json/ figures too): above this it wraps around. */
export const maxWorkerMemoryMiB = 2 ** 31 - 1

function parseWorkerMemory(raw: string, flag: string): string {
  // Whole MiB only (m, g, t): the master reports worker memory in MiB, and that is what we verify.
  if (!/^[1-9]\d*[mgt]$/i.test(raw) || sparkMemoryToMebibytes(raw) < 512 || sparkMemoryToMebibytes(raw) > maxWorkerMemoryMiB) {
    throw new UsageError(`${flag} must be a Spark memory size from 512m to 2047t (Spark counts it in MiB, in 32 bits), like 512m, 1g or 4g (got "${raw}")`)
  }
  return raw.toLowerCase()
}

const pythonMinor = matching(/^3\.(10|11|12|13)$/, 'a Python minor version from 3.10 to 3.13, like 3.12')

/** One requirement per comma-separated entry, as pip reads a line: a name, maybe extras, maybe a version. */
function parsePip(raw: string, flag: string): string[] {
  const entries = raw.split(',').map((entry) => entry.trim())
  const requirement = /^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._-]+\])?((===?|~=|!=|<=?|>=?)[A-Za-z0-9.*+!_-]+)?$/
  const bad = entries.find((entry) => !requirement.test(entry))
  if (bad !== undefined) {
    throw new UsageError(`${flag} must be comma-separated pip requirements like pandas-stubs==2.2.3,tabulate (got "${bad}"; put ranges, markers or hashes in a --requirements file)`)
  }
  return entries
}

/** The lines of a requirements file, read now so that a missing file is bad input, not a failed build. */
function parseRequirementsFile(raw: string, flag: string): string[] {
  let text: string
  try {
    text = readFileSync(raw, 'utf8')
  } catch (error) {
    throw new UsageError(`${flag}: cannot read "${raw}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
  }
  // Build args ride on one command line; Linux takes at most 128 KiB in one argument.
  if (Buffer.byteLength(text) > 96 * 1024) throw new UsageError(`${flag}: ${raw} is over 96 KiB; split what the image needs from what it does not`)
  const nested = text.split('\n').find((line) => /^\s*(-r|-c|--requirement|--constraint|-e|--editable)\b/.test(line))
  if (nested) throw new UsageError(`${flag}: ${raw} refers to other files ("${nested.trim()}"), which the image build cannot see; inline them`)
  return text.split('\n').filter((line) => line.trim() !== '')
}

function parsePackages(raw: string, flag: string): string[] {
  const coordinates = raw.split(',').map((entry) => entry.trim())
  const bad = coordinates.find((entry) => !/^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+:[A-Za-z0-9_.+-]+$/.test(entry))
  if (bad !== undefined) throw new UsageError(`${flag} must be comma-separated Maven coordinates group:artifact:version, like com.h2database:h2:2.3.232 (got "${bad}")`)
  return coordinates
}

/**
 * An existing folder of yours, made absolute: the containers see it by its full path on this
 * machine. Not an empty value (an unset shell variable, which resolve() would make the working
 * directory), nor a place data-folder.ts refuses, nor a path through a symlink, which the tool and
 * Docker's bind mount would follow to another folder.
 */
function parseDataFolder(raw: string, flag: string): string {
  const yours = `${flag} must be a folder of yours, like ~/lake`
  if (raw.trim() === '') throw new UsageError(`${yours} (got an empty value: is the shell variable you passed set?)`)
  const path = resolve(raw)
  const refuse = (folder: string) => {
    const problem = dataFolderProblem(folder)
    if (problem) throw new UsageError(`${yours}, and ${folder} is ${problem} (got "${raw}")`)
  }
  refuse(path)
  let folder: boolean
  try {
    folder = statSync(path).isDirectory()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new UsageError(`${flag} must be an existing folder (got "${raw}": ${code === 'ENOENT' || code === 'ENOTDIR' ? `there is no ${path}` : `cannot read ${path}, ${code}`})`)
  }
  if (!folder) throw new UsageError(`${flag} must be a folder, not a file (got "${raw}")`)
  // The native realpath: on a case-insensitive disk (macOS) it gives the folder's own case, so
  // /users/me is judged as /Users/me, your home.
  const real = realpathSync.native(path)
  refuse(real)
  if (real !== path) throw new UsageError(`${flag} must be a folder reached through no symlink (got "${raw}", which leads to ${real}): pass ${real} itself`)
  return path
}

/** Inside the containers: absolute, and clear of what the image and the pods already use. */
function parseDataPath(raw: string, flag: string): string {
  const taken = ['/opt', '/etc', '/tmp', '/usr', '/bin', '/sbin', '/lib', '/lib64', '/var', '/run', '/proc', '/sys', '/dev']
  if (!/^\/[\w./-]*[\w-]$/.test(raw) || posix.normalize(raw) !== raw || taken.some((dir) => raw === dir || raw.startsWith(`${dir}/`))) {
    throw new UsageError(`${flag} must be an absolute path outside ${taken.join(', ')}, like /data or /mnt/lake (got "${raw}")`)
  }
  return raw
}

export const optionSpecs: readonly OptionSpec[] = [
  { key: 'platform', flag: '--platform', env: 'SPARK_K8S_PLATFORM', form: 'auto|minikube|kubernetes|docker', commands: clusterCommands,
    help: 'where the cluster runs; auto = --context given → kubernetes, else minikube if installed, else a local Docker engine',
    parse: oneOf(['auto', 'minikube', 'kubernetes', 'docker']) },
  { key: 'workers', flag: '--workers', env: 'SPARK_K8S_WORKERS', form: workersForm, commands: ['up'],
    help: 'number of Spark workers (replicas of spark-worker), or a range MIN..MAX like 1..6: on Kubernetes a controller in the cluster (manifests/elastic/) adds a worker when an application waits for cores and removes one idle for --worker-idle', parse: parseWorkers },
  { key: 'workerIdleSeconds', flag: '--worker-idle', env: 'SPARK_K8S_WORKER_IDLE', form: idleForm, commands: ['up'],
    help: 'with --workers MIN..MAX: how long a worker runs no executor before it is removed (decommissioned first), down to MIN (default 2m)', parse: parseIdle },
  { key: 'workerCores', flag: '--worker-cores', env: 'SPARK_K8S_WORKER_CORES', form: '1..64', commands: ['up'],
    help: 'SPARK_WORKER_CORES of each worker (also its cpu limit; half is requested)', parse: wholeNumber(1, 64) },
  { key: 'workerMemory', flag: '--worker-memory', env: 'SPARK_K8S_WORKER_MEMORY', form: '512m, 1g, 4g…', commands: ['up'],
    help: 'SPARK_WORKER_MEMORY of each worker (its memory limit adds the daemon overhead)', parse: parseWorkerMemory },
  { key: 'sparkVersion', flag: '--spark-version', env: 'SPARK_K8S_SPARK_VERSION', form: 'X.Y.Z (3.5.2 … 4.x)', commands: buildCommands,
    help: 'Spark release baked into the image', parse: parseSparkVersion },
  { key: 'sparkDist', flag: '--spark-dist', env: 'SPARK_K8S_SPARK_DIST', form: 'pypi|apache', commands: buildCommands,
    help: "where the image gets Spark: the pyspark package from PyPI, pinned by digest (what CI tests), or Apache's release tarball, checked against its .sha512", parse: oneOf(['apache', 'pypi']) },
  { key: 'python', flag: '--python', env: 'SPARK_K8S_PYTHON', form: '3.10|3.11|3.12|3.13', commands: buildCommands,
    help: "the executors' Python minor version, which a Connect client's must match (default: this machine's python3 when it is one of these, else 3.11)", parse: pythonMinor },
  { key: 'pipRequirements', flag: '--pip', env: 'SPARK_K8S_PIP', form: 'pkg==ver,…', commands: buildCommands,
    help: 'Python packages to add to the image (beside pandas, pyarrow and numpy, always there)', parse: parsePip, adds: true },
  { key: 'pipRequirements', flag: '--requirements', env: 'SPARK_K8S_REQUIREMENTS', form: 'a requirements.txt file', commands: buildCommands,
    help: 'a pip requirements file to add to the image (hash-checked when it has --hash lines; no credentials: build args stay in the image history)', parse: parseRequirementsFile, adds: true },
  { key: 'packages', flag: '--packages', env: 'SPARK_K8S_PACKAGES', form: 'group:artifact:version,…', commands: buildCommands,
    help: "Maven packages resolved at build time into the image's Spark jars, on every driver's and executor's classpath", parse: parsePackages },
  { key: 'baseImage', flag: '--base-image', env: 'SPARK_K8S_BASE_IMAGE', form: 'an image reference', commands: buildCommands,
    help: 'base image of the Dockerfile (default debian:bookworm-slim)', parse: matching(/^[^\s]+$/, 'an image reference without spaces') },
  { key: 'image', flag: '--image', env: 'SPARK_K8S_IMAGE', form: 'a repository name like spark or team/spark', commands: buildCommands,
    help: 'image repository; the tag is <spark version>-<hash of docker/>', parse: matching(imageRepository, 'a lowercase repository name like spark or team/spark') },
  { key: 'registry', flag: '--registry', env: 'SPARK_K8S_REGISTRY', form: 'host[:port][/path]', commands: buildCommands,
    help: 'push the image here (else it is loaded straight into minikube)', parse: matching(registryHost, 'host[:port][/path], like localhost:5000 or ghcr.io/team') },
  { key: 'profile', flag: '--profile', env: 'SPARK_K8S_MINIKUBE_PROFILE', form: 'a minikube profile name', commands: clusterCommands,
    help: 'minikube profile (also the kube context minikube writes)', parse: parseProfile },
  { key: 'namespace', flag: '--namespace', env: 'SPARK_K8S_NAMESPACE', form: 'a DNS label', commands: clusterCommands,
    help: 'Kubernetes namespace (created if missing, when you may create namespaces)', parse: matching(dnsLabel, 'a DNS label like default or spark') },
  { key: 'context', flag: '--context', env: 'SPARK_K8S_CONTEXT', form: 'a kubeconfig context', commands: clusterCommands,
    help: 'use this existing cluster instead of minikube', parse: matching(/^\S+$/, 'a kubeconfig context name') },
  { key: 'expose', flag: '--expose', env: 'SPARK_K8S_EXPOSE', form: 'nodeport|clusterip', commands: ['up'],
    help: 'the master Service: nodeport publishes 7077/8080 on every node (NodePorts 30000/30001 as in the classic README; the default on minikube), clusterip keeps them inside the cluster (the UI through the API server; the default on --platform kubernetes)',
    parse: oneOf(['nodeport', 'clusterip']) },
  { key: 'data', flag: '--data', env: 'SPARK_K8S_DATA', form: 'a folder of yours', commands: ['up'],
    help: 'a folder of this machine, mounted read-write at --data-path in the master, every worker and every driver (Docker; minikube when it creates the profile); event logs go to its spark-events/', parse: parseDataFolder },
  { key: 'dataClaim', flag: '--data-claim', env: 'SPARK_K8S_DATA_CLAIM', form: 'a PersistentVolumeClaim name', commands: ['up'],
    help: 'an existing PersistentVolumeClaim of the namespace, mounted the same way (ReadWriteMany when the cluster has several nodes); never deleted by cluster:down', parse: matching(dnsLabel, 'the name of a PersistentVolumeClaim, like lake') },
  { key: 'dataPath', flag: '--data-path', env: 'SPARK_K8S_DATA_PATH', form: 'an absolute path', commands: ['up'],
    help: 'where the data folder or claim appears in the containers (default /data)', parse: parseDataPath },
  { key: 's3Endpoint', flag: '--s3-endpoint', env: 'SPARK_K8S_S3_ENDPOINT', form: 'http(s)://host[:port]', commands: ['up'],
    help: 'an S3-compatible server (MinIO, Ceph, versitygw, AWS) for s3a:// paths from every driver and executor; credentials from --s3-credentials, else AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), else ~/.aws/credentials, go into the spark-auth secret', parse: parseS3Endpoint },
  { key: 's3Region', flag: '--s3-region', env: 'SPARK_K8S_S3_REGION', form: 'a region name', commands: ['up'],
    help: "the region S3 requests are signed for (default: the one in an AWS endpoint's name, else us-east-1)", parse: parseS3Region },
  { key: 's3Credentials', flag: '--s3-credentials', env: 'SPARK_K8S_S3_CREDENTIALS', form: 'an AWS credentials file', commands: ['up'],
    help: 'read the S3 keys from this file\'s [default] profile (or AWS_PROFILE\'s): aws_access_key_id, aws_secret_access_key, maybe aws_session_token', parse: parseS3CredentialsFile },
  { key: 'uiKill', flag: '--ui-kill', boolean: true, form: '', commands: ['up'],
    help: "let the master's and the applications' web UIs kill applications, drivers, stages and jobs (off by default: anyone who reaches a UI could)" },
  { key: 'timeoutSeconds', flag: '--timeout', env: 'SPARK_K8S_TIMEOUT', form: 'seconds, 10..7200', commands: clusterCommands,
    help: 'give up waiting (rollout, workers, teardown) after this long; also the deadline of a Pi or submit driver', parse: wholeNumber(10, 7200) },
  { key: 'partitions', flag: '--partitions', env: 'SPARK_K8S_PI_PARTITIONS', form: '1..1000', commands: ['pi'],
    help: 'partitions (tasks) of the Pi job; the default is the job file\'s PI_PARTITIONS', parse: wholeNumber(1, 1000) },
  { key: 'role', flag: '--role', form: 'master|worker|connect|history|notebook', commands: ['down'],
    help: 'delete only the master, only the workers (and an elastic range\'s controller), only the Spark Connect server, only the History Server or only JupyterLab (its notebooks stay)', parse: oneOf(['master', 'worker', 'connect', 'history', 'notebook']) },
  { key: 'port', flag: '--port', env: 'SPARK_K8S_UI_PORT', form: '0..65535', commands: ['ui'],
    help: 'local port for the UI (default 8080, or any free port when 8080 is taken; 0 = any free port)', parse: wholeNumber(0, 65535) },
  { key: 'port', flag: '--port', env: 'SPARK_K8S_HISTORY_PORT', form: '0..65535', commands: ['history'],
    help: 'local port for the History Server on Kubernetes (default 18080, or any free port when it is taken; 0 = any free port); Docker publishes 18080', parse: wholeNumber(0, 65535) },
  { key: 'python', flag: '--python', form: '3.10|3.11|3.12|3.13', commands: ['connect'],
    help: "the Python minor version your client runs (default: this machine's python3); refused before starting when the executors run another", parse: pythonMinor },
  { key: 'port', flag: '--port', env: 'SPARK_K8S_CONNECT_PORT', form: '0..65535', commands: ['connect'],
    help: 'local port for Spark Connect on Kubernetes (default 15002, or any free port when it is taken; 0 = any free port); Docker publishes 15002', parse: wholeNumber(0, 65535) },
  { key: 'port', flag: '--port', env: 'SPARK_K8S_NOTEBOOK_PORT', form: '0..65535', commands: ['notebook'],
    help: 'local port for JupyterLab on Kubernetes (default 8888, or any free port when it is taken; 0 = any free port); Docker publishes 8888', parse: wholeNumber(0, 65535) },
  { key: 'open', flag: '--open', boolean: true, form: '', commands: ['ui', 'history', 'notebook'],
    help: 'also open the UI in your browser' },
  { key: 'pyFiles', flag: '--py-files', form: 'a.py,deps.zip', commands: driverCommands,
    help: 'comma-separated .py, .zip or .egg files for the Python path (mounted beside the app)', parse: fileList },
  { key: 'files', flag: '--files', form: 'data.csv,lookup.json', commands: driverCommands,
    help: 'comma-separated files the app opens by name (its working directory; SparkFiles.get on executors)', parse: fileList },
  { key: 'confs', flag: '--conf', multiple: true, form: 'key=value', commands: driverCommands,
    help: 'a Spark property for this application, like spark.executor.memory=1g (repeatable)', parse: matching(/^spark\.[\w.-]+=\S.*$/, 'a Spark property key=value, like spark.executor.memory=1g') },
  { key: 'executor', flag: '--executor', form: 'an executor id: 0, 1, 2…', commands: ['logs'],
    help: "print this executor's stderr and stdout instead of the driver's log (the driver's log ends with the executors that kept one)", parse: wholeNumber(0, 999999) },
  { key: 'keepMinikube', flag: '--keep-minikube', boolean: true, form: '', commands: ['down'],
    help: 'leave minikube running after deleting the Spark objects' },
  { key: 'deleteNotebooks', flag: '--delete-notebooks', boolean: true, form: '', commands: ['down'],
    help: "also delete the volume (Docker) or claim (Kubernetes) JupyterLab keeps your notebooks on when the cluster has no --data or --data-claim; kept otherwise (notebooks under the data folder or claim are never deleted)" },
  { key: 'json', flag: '--json', boolean: true, form: '', commands: commands.filter((c) => c !== 'submit' && c !== 'shell' && c !== 'logs'),
    help: 'print a machine-readable summary on stdout (progress goes to stderr)' },
]

function fileList(raw: string, flag: string): string[] {
  const files = raw.split(',').map((file) => file.trim())
  if (files.some((file) => file === '')) throw new UsageError(`${flag} must be comma-separated file paths, like a.py,deps.zip (got "${raw}")`)
  return files
}

/**
 * Where the app's own arguments start in `submit`'s argv: at the first word that is neither a flag
 * of ours nor a flag's value (or after a lone --), as spark-submit reads it. They reach the app verbatim.
 */
export function appStart(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]
    if (word === '--') return i + 1
    if (!word.startsWith('-')) return i
    const spec = optionSpecs.find((s) => s.flag === word.split('=')[0])
    if (!word.includes('=') && !spec?.boolean && word !== '--help' && word !== '-h') i++
  }
  return argv.length
}

const defaults = {
  platform: 'auto',
  sparkVersion: '4.3.0',
  sparkDist: 'pypi',
  image: 'spark-standalone',
  profile: 'minikube',
  namespace: 'default',
  timeoutSeconds: 600,
  workerIdleSeconds: 120,
  json: false,
  keepMinikube: false,
  deleteNotebooks: false,
  uiKill: false,
  open: false,
  dataPath: '/data',
  appArgs: [],
  pyFiles: [],
  files: [],
  confs: [],
  pipRequirements: [],
  packages: [],
} as const

export const npmScriptOf: Record<Command, string> = {
  up: 'cluster:up',
  pi: 'pi',
  scale: 'scale',
  status: 'status',
  ui: 'ui',
  history: 'history',
  connect: 'connect',
  notebook: 'notebook',
  submit: 'submit',
  shell: 'shell',
  logs: 'logs',
  down: 'cluster:down',
}

/**
 * Parses argv (after the command) and the SPARK_K8S_* environment into a validated Config.
 * Flags win over env vars, env vars over the manifests' defaults. Throws UsageError on bad input.
 */
export function parseConfig(
  command: Command,
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  manifests: ClusterManifests = loadManifests(),
): Config {
  const specs = optionSpecs.filter((spec) => spec.commands.includes(command))
  const options = Object.fromEntries([
    ['help', { type: 'boolean', short: 'h' }],
    ...specs.map((spec) => [spec.flag.slice(2), { type: spec.boolean ? 'boolean' : 'string', multiple: Boolean(spec.multiple) }]),
  ])
  const app = command === 'submit' ? argv.slice(appStart(argv)) : []
  const ours = command === 'submit' ? argv.slice(0, argv.length - app.length).filter((word) => word !== '--') : argv
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: ours, options, strict: true, allowPositionals: command === 'scale' || command === 'logs' })
  } catch (error) {
    throw new UsageError(rephraseParseError(error, command))
  }
  const values = parsed.values as Record<string, string | string[] | boolean | undefined>
  const config: Record<string, unknown> = { ...defaults, ...workerDefaults(manifests), command, help: Boolean(values.help) }

  const given = new Set<string>()
  for (const spec of specs) {
    const fromFlag = values[spec.flag.slice(2)]
    const fromEnv = spec.env ? env[spec.env] : undefined
    if (spec.boolean) {
      if (fromFlag !== undefined) config[spec.key] = fromFlag
      else if (fromEnv !== undefined && fromEnv !== '') config[spec.key] = /^(1|true|yes)$/i.test(fromEnv)
      continue
    }
    let value: unknown
    if (Array.isArray(fromFlag)) value = fromFlag.map((raw) => spec.parse!(raw, spec.flag))
    else if (typeof fromFlag === 'string') value = spec.parse!(fromFlag, spec.flag)
    else if (fromEnv !== undefined && fromEnv !== '') value = spec.parse!(fromEnv, `${spec.env} (${spec.flag})`)
    else continue
    given.add(spec.flag)
    // --pip and --requirements fill one list.
    config[spec.key] = spec.adds ? [...(config[spec.key] as unknown[]), ...(value as unknown[])] : value
  }

  if (command === 'scale' && !config.help) {
    const [count, ...extra] = parsed.positionals
    if (count === undefined || extra.length > 0) {
      throw new UsageError('scale takes one worker count: npm run scale -- N (N from 1 to 64)')
    }
    config.workers = wholeNumber(1, 64)(count, 'the worker count')
  }
  if (command === 'logs' && !config.help) {
    const [appId, ...extra] = parsed.positionals
    if (appId === undefined || extra.length > 0 || !appIdPattern.test(appId)) {
      throw new UsageError(`logs takes one application id: npm run logs -- app-20260101120000-0000 [--executor N] (got "${parsed.positionals.join(' ')}")`)
    }
    config.appId = appId
  }
  if (command === 'submit' && !config.help) {
    const [file, ...args] = app
    if (!file || !/\.py$/.test(file)) throw new UsageError(`submit takes your PySpark file first: npm run submit -- [flags] app.py [its arguments] (got "${file ?? ''}")`)
    config.app = file
    config.appArgs = args
  }
  if (typeof config.workers === 'object') {
    config.workerRange = config.workers
    config.workers = (config.workers as WorkerRange).min
  }
  if (given.has('--worker-idle') && !config.workerRange) {
    throw new UsageError(`--worker-idle goes with a range of workers, --workers MIN..MAX like 1..6 (got --workers ${config.workers as number})`)
  }
  if (config.deleteNotebooks && config.role !== undefined && config.role !== 'notebook') {
    throw new UsageError(`--delete-notebooks goes with a whole cluster:down or --role notebook (got --role ${config.role as string})`)
  }
  const offered = imagePythons(config.sparkVersion as string)
  if (command === 'up' && typeof config.python === 'string' && !offered.includes(config.python)) {
    throw new UsageError(`--python ${config.python} needs Spark 4 (Spark ${config.sparkVersion} runs Python ${offered.join(' and ')}): use --python ${offered.join('|')}`)
  }
  // Once one line has a hash pip demands one of every line, and a --pip entry cannot carry one.
  if (given.has('--pip') && given.has('--requirements') && (config.pipRequirements as string[]).some((line) => line.includes('--hash'))) {
    throw new UsageError("--pip cannot join a --requirements file with hashes (pip then checks every package's): put those packages in the file, with their --hash")
  }
  if (command === 'up' && !config.help) {
    config.s3 = s3Settings({ endpoint: config.s3Endpoint as string | undefined, region: config.s3Region as string | undefined, credentials: config.s3Credentials as string | undefined, sparkVersion: config.sparkVersion as string }, env)
  }
  if (given.has('--data') && given.has('--data-claim')) throw new UsageError('--data and --data-claim cannot be given together: the cluster mounts one of them at --data-path')
  if (config.context && config.platform === 'auto') config.platform = 'kubernetes'
  if (config.context && (config.platform === 'minikube' || config.platform === 'docker')) {
    throw new UsageError(`--context goes with --platform kubernetes (got --platform ${config.platform})`)
  }
  return config as unknown as Config
}

function rephraseParseError(error: unknown, command: Command): string {
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: string }).code
  // Node names a flag as '--workers' or, for ones with a short form, '-h, --help': take the long one.
  const flag = /'(?:-\w, )?(-{1,2}[\w-]+)/.exec(message)?.[1] ?? ''
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown flag ${flag} for ${npmScriptOf[command]} (see --help)`
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const spec = optionSpecs.find((s) => s.flag === flag)
    if (flag === '--help' || spec?.boolean) return `${flag} takes no value`
    return `${flag} needs a value: ${spec?.form ?? ''}`.trim()
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `${npmScriptOf[command]} takes no positional arguments`
  return message.split('\n')[0]
}

/** --help text for one command, generated from the same option table the parser uses. */
export function helpText(command: Command): string {
  const usage: Record<Command, string> = {
    up: 'Start minikube (if used), build and publish the Spark image, apply the manifests, wait for the rollout\nand prove the master UI reports every worker ALIVE with the configured cores and memory.',
    pi: 'Run the Pi job inside the cluster (spark-submit of docker/pi.py) and print the estimate.',
    scale: 'Set the number of workers and return when the master reports exactly that many ALIVE. A fixed\ncount: it ends an elastic range (cluster:up --workers MIN..MAX) and says so.',
    status: 'Show pods or containers, the workers the master reports, and where to open the UI.',
    ui: 'Serve the master web UI (worker and application UIs too, through its reverse proxy) on\nhttp://localhost:<port> until Ctrl-C: a port-forward through the Kubernetes API server. On the\ndocker platform it prints the loopback URL Docker already publishes and returns (--port does not apply).',
    history: "Start the Spark History Server in the cluster (it reads the event logs every driver the tool starts\nwrites) and serve its UI on http://localhost:18080 until Ctrl-C: a port-forward through the Kubernetes\nAPI server. On the docker platform it prints the loopback URL Docker publishes and returns.",
    connect: 'Start a Spark Connect server in the cluster (a driver your own Python drives over gRPC), make it\nreachable at sc://localhost:15002 (a port-forward until Ctrl-C on Kubernetes; Docker publishes it on\nloopback) and print the connection string with its token and a Python snippet.',
    notebook: "Start JupyterLab in the cluster on the cluster's own image (its kernel a PySpark driver with `spark`\nand `sc` ready), building that image once, and serve it on http://localhost:8888 (a port-forward until\nCtrl-C on Kubernetes; Docker publishes it on loopback): prints the URL with its token. Notebooks live\nin <data>/notebooks when the cluster has data, else on a volume or claim cluster:down keeps.",
    submit: 'Run your PySpark file as a driver in the cluster (a Job whose files come from a ConfigMap; a container\non Docker), stream its output, and exit with its exit code. Everything after the file goes to it verbatim.',
    logs: "Print what an application's driver logged (its log4j output), or one executor's stderr and stdout,\nkept beside the event logs after the driver and workers are gone (read by a short Job or container).\nWith no --executor it names the executors that kept logs. Ids: npm run status, npm run history.",
    shell: 'An interactive pyspark REPL whose driver runs in the cluster (a pod attached to this terminal; a\ncontainer on Docker), with `spark` ready. Input may be piped. The pod or container is removed on exit.',
    down: 'Delete everything this tool made (labelled app=spark and app.kubernetes.io/managed-by=spark-standalone-k8s;\nor one --role), wait until gone, then stop minikube (unless --role or --keep-minikube).',
  }
  const args = command === 'scale' ? ' -- N [flags]' : command === 'submit' ? ' -- [flags] app.py [args…]' : command === 'logs' ? ' -- <app id> [--executor N] [flags]' : ' [-- flags]'
  const rows = optionSpecs
    .filter((spec) => spec.commands.includes(command))
    .map((spec) => {
      const left = `  ${spec.flag}${spec.boolean ? '' : ` <${spec.form}>`}`
      const env = spec.env ? ` [env ${spec.env}]` : ''
      return `${left}\n      ${spec.help}${env}`
    })
  return [`Usage: npm run ${npmScriptOf[command]}${args}`, '', usage[command], '', 'Flags:', ...rows, '  -h, --help\n      show this help'].join('\n')
}
