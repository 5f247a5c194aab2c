// The minikube CLI as this tool reads it. Shapes, units and exit codes are minikube v1.37.0's, checked
// against the real binary by test/contract/minikube.contract.ts and recorded in
// test/fixtures/minikube/v1.37.0/.
//
// Two habits of minikube shape the parsing here:
// - with `-o json` it also reports its own messages on stdout, as one CloudEvents JSON object a line
//   ({"specversion":"1.0",…,"type":"io.k8s.sigs.minikube.info","data":{"message":"Profile \"p\" not
//   found. …"}}), so stdout can hold several JSON values and only the one with the expected shape is
//   the answer;
// - `status` exits with bit flags (1 host, 2 cluster, 4 kubeconfig not OK) even when it printed a
//   status, and 85 when the profile does not exist, so stdout is read whatever the exit code.
import { run } from '../proc.ts'

/**
 * minikube's exit codes that this tool tells apart (pkg/minikube/reason/exitcodes.go), each seen from
 * the real binary (test/fixtures/minikube/v1.37.0/).
 */
export const minikubeExitCode = {
  /** ExProgramError, the default for a reason without its own code: RSRC_OVER_ALLOC_MEM (memory over the host's). */
  programError: 10,
  /** ExProgramConflict: MK_RESERVED_PROFILE (`minikube profile start`). */
  reservedProfile: 11,
  /** ExProgramUsage: MK_USAGE (invalid profile name, memory over the docker engine's, docker not answering), MK_USAGE_NO_PROFILE, and `image ls` without a profile. */
  usage: 14,
  /** ExInsufficientCores: RSRC_INSUFFICIENT_CORES (more CPUs than the docker engine has, without --force). */
  insufficientCores: 29,
  /** ExInternetError: INET_CACHE_BINARIES (Kubernetes binaries could not be downloaded). */
  internetError: 40,
  /** ExGuestNotFound: no such profile (status, ip, stop, update-context), or its node does not exist (ip, update-context). */
  profileNotFound: 85,
} as const

/** One node's entry in `minikube status -o json` (cluster.Status). */
export interface MinikubeStatus {
  Name?: string
  Host?: string
  Kubelet?: string
  APIServer?: string
  Kubeconfig?: string
  /** true for a worker node; the control plane has false. */
  Worker?: boolean
  TimeToStop?: string
  DockerEnv?: string
  PodManEnv?: string
}

/** What `status` reports for a profile whose node (container / VM) does not exist. */
export const NONEXISTENT = 'Nonexistent'

/** Where the node of a profile made with --data sees the folder (`minikube start --mount-string <folder>:<this>`). */
export const minikubeDataPath = '/mnt/spark-data'

/**
 * The `minikube start` flags that mount `mountString` (host:node) into a new profile's node. Before
 * v1.37.0 minikube acted on --mount-string only with --mount (v1.36.0 cmd/minikube/cmd/start_flags.go:641,
 * `viper.GetBool(createMount) && driver.IsKIC(drvName)`; pkg/minikube/node/config.go for VM drivers);
 * v1.37.0 mounts whenever --mount-string is set and keeps --mount as an ignored flag (start_flags.go:176, 658).
 */
export function minikubeMountArgs(mountString: string): string[] {
  return ['--mount', '--mount-string', mountString]
}

/**
 * `minikube status -p X -o json` parsed (stdout is read whatever the exit code: it uses bit-flag exit
 * codes); undefined when there is no such profile. A multi-node profile prints an array: the control
 * plane's entry is returned.
 */
export async function minikubeStatus(profile: string): Promise<MinikubeStatus | undefined> {
  const result = await run({ nothrow: true })`minikube status -p ${profile} -o json`
  return parseStatus(profile, result)
}

/**
 * The status in `minikube status -o json`'s output; undefined when it holds none (no such profile:
 * exit 85 and only message events on stdout).
 *
 * When the profile exists but minikube could not read any node's state it prints `null` and exits 0
 * (v1.37.0: GetStatus fails for a node whose host does not exist, and the empty list is marshalled as
 * null). That is reported as a status in the state minikube itself would have given: "Nonexistent"
 * when stderr says the host does not exist, "Error" otherwise.
 */
export function parseStatus(profile: string, output: { stdout: string; stderr?: string }): MinikubeStatus | undefined {
  const { stdout, stderr = '' } = output
  if (stdout.trim() === 'null') {
    const state = /host does not exist/.test(stderr) ? NONEXISTENT : 'Error'
    return { Name: profile, Host: state, Kubelet: state, APIServer: state, Kubeconfig: state }
  }
  for (const value of jsonValues(stdout)) {
    const nodes = (Array.isArray(value) ? value : [value]).filter(isStatus)
    if (nodes.length > 0) return nodes.find((node) => node.Worker !== true) ?? nodes[0]
  }
  return undefined
}

export function isRunning(status: MinikubeStatus | undefined): boolean {
  return status?.Host === 'Running' && status.Kubelet === 'Running' && status.APIServer === 'Running'
}

/** A profile as `minikube profile list -o json` reports it. */
export interface MinikubeProfile {
  name: string
  /**
   * minikube's cluster state name ("OK", "Stopped", "Paused", "Starting", …); "" for an invalid profile
   * and for a valid one whose node state minikube could not get (e.g. its node does not exist).
   */
  status: string
  /** "" when the profile's config has none (an invalid profile). */
  driver: string
  /** As configured (0 for `--cpus=no-limit` or an invalid profile). */
  cpus: number
  /** Config.Memory, which minikube keeps in MiB (0 for `--memory=no-limit` or an invalid profile). */
  memoryMiB: number
  containerRuntime?: string
  kubernetesVersion?: string
  /** The host folder the node really mounts (`--mount-string host:guest`, fixed at creation on the docker driver); "" for none. */
  mountString: string
  /** How many nodes the profile has (0 for an invalid profile). */
  nodes: number
  /** false when minikube lists it under "invalid" (no config, no driver, or a node without a Kubernetes version). */
  valid: boolean
}

/** The raw entry (config.Profile); the config is pkg/minikube/config/types.go's ClusterConfig. */
interface RawProfile {
  Name: string
  Status?: string
  Config?: {
    Driver?: string
    CPUs?: number
    Memory?: number
    MountString?: string
    /** Before v1.37.0 only: --mount, without which MountString is not mounted. */
    Mount?: boolean
    /** What the docker and podman drivers bind into the node. */
    ContainerVolumeMounts?: string[] | null
    Nodes?: unknown[] | null
    KubernetesConfig?: { KubernetesVersion?: string; ContainerRuntime?: string }
  } | null
}

/** The profile as `minikube profile list -o json` reports it (valid or invalid list), or undefined when it does not exist. */
export async function readProfile(name: string): Promise<MinikubeProfile | undefined> {
  const result = await run({ nothrow: true })`minikube profile list -o json`
  const list = parseProfileList(result.stdout)
  if (!list) {
    const detail = eventMessages(result.stdout).join('; ') || result.stderr.trim() || `exit ${result.exitCode}`
    throw new Error(`minikube profile list -o json gave no profile list: ${detail}`)
  }
  return [...list.valid, ...list.invalid].find((profile) => profile.name === name)
}

/** Both lists of `minikube profile list -o json`; undefined when stdout holds no such list. */
export function parseProfileList(stdout: string): { valid: MinikubeProfile[]; invalid: MinikubeProfile[] } | undefined {
  for (const value of jsonValues(stdout)) {
    if (!isObject(value) || !Array.isArray(value.valid) || !Array.isArray(value.invalid)) continue
    return {
      valid: (value.valid as RawProfile[]).map((raw) => toProfile(raw, true)),
      invalid: (value.invalid as RawProfile[]).map((raw) => toProfile(raw, false)),
    }
  }
  return undefined
}

function toProfile(raw: RawProfile, valid: boolean): MinikubeProfile {
  const config = raw.Config ?? {}
  return {
    name: raw.Name,
    status: raw.Status ?? '',
    driver: config.Driver ?? '',
    cpus: config.CPUs ?? 0,
    memoryMiB: config.Memory ?? 0,
    mountString: nodeMount(config),
    nodes: config.Nodes?.length ?? 0,
    containerRuntime: config.KubernetesConfig?.ContainerRuntime || undefined,
    kubernetesVersion: config.KubernetesConfig?.KubernetesVersion || undefined,
    valid,
  }
}

/**
 * The mount a profile's node really has. The docker and podman drivers bind ContainerVolumeMounts,
 * which before v1.37.0 start filled only with --mount (v1.36.0 cmd/minikube/cmd/start_flags.go:641);
 * VM drivers mount MountString, before v1.37.0 only with Mount true (pkg/minikube/node/config.go:76),
 * and its default was the home folder, mounted by nobody.
 */
function nodeMount(config: NonNullable<RawProfile['Config']>): string {
  if (config.Driver === 'docker' || config.Driver === 'podman') return config.ContainerVolumeMounts?.[0] ?? ''
  return config.Mount === false ? '' : (config.MountString ?? '')
}

/** Words minikube refuses as a profile name (pkg/minikube/config/profile.go, `keywords`), compared case-insensitively. */
export const reservedProfileNames = ['start', 'stop', 'status', 'delete', 'config', 'open', 'profile', 'addons', 'cache', 'logs'] as const

// Dot-separated labels of letters, digits and '-', each starting and ending with a letter or digit
// (config.ProfileNameValid's RestrictedNamePattern, anchored).
const profileNamePattern = /^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$/

/**
 * minikube's own profile-name rule (pkg/minikube/config/profile.go: ProfileNameValid, checked by
 * `minikube start` and `minikube profile`, and ProfileNameInReservedKeywords, checked by
 * `minikube profile`); a one-line reason when invalid, undefined when valid.
 */
export function profileNameProblem(name: string): string | undefined {
  if (name.length < 2) return `minikube profile name "${name}" is too short: it needs at least 2 characters`
  if (!profileNamePattern.test(name)) {
    return `minikube profile name "${name}" is not valid: only letters, digits and '-' (dot-separated parts), each part starting and ending with a letter or digit`
  }
  const reserved = reservedProfileNames.find((word) => word === name.toLowerCase())
  if (reserved) return `minikube profile name "${name}" is a word minikube reserves (${reservedProfileNames.join(', ')})`
  return undefined
}

/** `minikube version -o json`: {"commit":"…","minikubeVersion":"v1.37.0"}; undefined when it gives no such object. */
export async function minikubeVersionInfo(): Promise<{ minikubeVersion: string; commit: string } | undefined> {
  const result = await run({ nothrow: true })`minikube version -o json`
  const found = jsonValues(result.stdout).find((value) => isObject(value) && typeof value.minikubeVersion === 'string')
  return found ? { minikubeVersion: String((found as Record<string, unknown>).minikubeVersion), commit: String((found as Record<string, unknown>).commit ?? '') } : undefined
}

/**
 * Why minikube gave up, from its text output ("X Exiting due to RSRC_INSUFFICIENT_CORES: Requested cpu
 * count 3 is greater than the available cpus of 2"; stderr, or stdout for some commands): the reason id
 * and the message, or undefined when it printed none.
 */
export function exitReason(output: string): { id: string; message: string } | undefined {
  const match = /^[X*] Exiting due to ([A-Z0-9_]+): (.*)$/m.exec(output)
  return match ? { id: match[1], message: match[2].trim() } : undefined
}

/** The message and exit code of each CloudEvents error/warning/info minikube wrote to stdout in JSON mode. */
export interface MinikubeEvent {
  type: string
  name?: string
  message?: string
  exitcode?: string
  advice?: string
}

export function minikubeEvents(stdout: string): MinikubeEvent[] {
  return jsonValues(stdout)
    .filter((value): value is Record<string, unknown> => isObject(value) && value.specversion !== undefined && isObject(value.data))
    .map((event) => {
      const data = event.data as Record<string, unknown>
      const text = (key: string) => (typeof data[key] === 'string' ? (data[key] as string) : undefined)
      return { type: String(event.type), name: text('name'), message: text('message'), exitcode: text('exitcode'), advice: text('advice') }
    })
}

function eventMessages(stdout: string): string[] {
  return minikubeEvents(stdout)
    .map((event) => event.message?.trim())
    .filter((message): message is string => Boolean(message))
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isStatus(value: unknown): value is MinikubeStatus {
  return isObject(value) && typeof value.Host === 'string' && 'Kubelet' in value
}

/**
 * Every top-level JSON object or array in `text`, in order: minikube writes them one after another,
 * sometimes on one line (`profile list` ends without a newline). Text between values is skipped.
 */
export function jsonValues(text: string): unknown[] {
  const values: unknown[] = []
  let start = -1
  let depth = 0
  let inString = false
  let escaped = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (start < 0) {
      if (c === '{' || c === '[') {
        start = i
        depth = 1
      }
      continue
    }
    if (inString) {
      if (escaped) escaped = false
      else if (c === '\\') escaped = true
      else if (c === '"') inString = false
      continue
    }
    if (c === '"') inString = true
    else if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') {
      depth--
      if (depth === 0) {
        try {
          values.push(JSON.parse(text.slice(start, i + 1)))
        } catch {
          // Not JSON after all (a bracket in prose): resume scanning after its opening character.
          i = start
        }
        start = -1
      }
    }
  }
  return values
}
