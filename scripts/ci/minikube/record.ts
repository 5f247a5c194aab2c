#!/usr/bin/env -S npx tsx
// Records what the real minikube binary (scripts/ci/minikube/build.ts) prints in the states that need
// no running cluster, into test/fixtures/minikube/v<version>/<case>.json. The unit tests replay these
// through the fake process runner; the contract tests (test/contract/) run the same cases again and
// compare. Each case runs in a throwaway sandbox: MINIKUBE_HOME, KUBECONFIG and TMPDIR (minikube
// writes its crash logs there) all point under a fresh temp dir, so ~/.minikube, ~/.kube/config and
// /tmp are never touched. The sandbox path is replaced by `$TMP` in what is stored.
//
//   npx tsx scripts/ci/minikube/record.ts            # all cases
//   npx tsx scripts/ci/minikube/record.ts version     # the cases whose name contains "version"
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { $ } from 'zx'
import { runIfMain } from '../../lib/main.ts'
import { repoRoot } from '../../lib/paths.ts'
import { minikubeDataPath, minikubeMountArgs } from '../../lib/kube/minikube.ts'
import { ensureMinikubeBinary, minikubeVersion } from './build.ts'

export const fixtureDir = join(repoRoot, 'test', 'fixtures', 'minikube', `v${minikubeVersion}`)

/** The profile every case uses (a valid name that nobody's real cluster has). */
export const profile = 'spark-contract'
/** What the sandbox's path becomes in stored output. */
export const sandboxPlaceholder = '$TMP'

/** One recorded run: the fixture file's shape. */
export interface Recording {
  /** argv, starting with "minikube". */
  command: string[]
  exitCode: number
  stdout: string
  stderr: string
}

/** What the docker engine offers; the resource-refusal cases ask for one CPU / 1 GiB more. */
export interface DockerResources {
  cpus: number
  memoryMiB: number
}

/** The state a case starts from (each case gets a fresh sandbox). */
export type Setup =
  /** Nothing: no profile, no profiles directory. */
  | 'fresh'
  /** After `minikube start --dry-run`: it leaves profiles/<p>/events.json but no config.json. */
  | 'dry-run-leftover'
  /** After a `--download-only` start that failed offline: profiles/<p>/config.json, but no machine. */
  | 'node-gone'
  /** The same with the data folder's mount flags as minikube-start.ts passes them: its config holds the mount. */
  | 'node-gone-mounted'

/**
 * How the contract test compares today's run with the recording:
 * - exact: exit code and all of stdout/stderr, after masking what varies run to run (sandbox path,
 *   event ids, klog timestamps, the host OS line, box padding);
 * - errors: exit code and the error/suggestion lines, numbers masked (they carry this machine's CPUs and
 *   memory, and the root-only warnings differ by user);
 * - reason: exit code and the "Exiting due to REASON" id only (the output's order is not stable).
 */
export type Comparison = 'exact' | 'errors' | 'reason'

export interface Case {
  name: string
  setup: Setup
  /** minikube's arguments (after "minikube"). */
  args: (docker: DockerResources) => string[]
  /** Needs a reachable docker engine (the docker driver's checks ask it). */
  needsDocker: boolean
  compare: Comparison
  /** Extra environment; `$TMP` is replaced by the sandbox path. */
  env?: Record<string, string>
}

const p = profile
const dockerDryRun = ['start', '-p', p, '--driver=docker', '--dry-run']

/**
 * Saves the profile's config and then fails: --download-only exits right after the downloads, and
 * every download goes to a proxy that refuses (nothing leaves the machine, nothing reaches docker).
 * Explicit --cpus/--memory so the config's values are known (3g is stored as 3072: MiB).
 */
export const downloadOnlyStart = ['start', '-p', p, '--driver=docker', '--force', '--download-only', '--cpus', '2', '--memory', '3g']
/** The folder of the mounted case: never bound (no node is made), so it need not exist. */
export const recordedMount = `/srv/lake:${minikubeDataPath}`
const offline = { HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', NO_PROXY: '' }

export const cases: Case[] = [
  { name: 'version-json', setup: 'fresh', args: () => ['version', '-o', 'json'], needsDocker: false, compare: 'exact' },
  // No such profile.
  { name: 'status-json-no-profile', setup: 'fresh', args: () => ['status', '-p', p, '-o', 'json'], needsDocker: false, compare: 'exact' },
  { name: 'profile-list-json-no-profiles', setup: 'fresh', args: () => ['profile', 'list', '-o', 'json'], needsDocker: false, compare: 'exact' },
  { name: 'profile-list-table-no-profiles', setup: 'fresh', args: () => ['profile', 'list'], needsDocker: false, compare: 'exact' },
  { name: 'ip-no-profile', setup: 'fresh', args: () => ['ip', '-p', p], needsDocker: false, compare: 'exact' },
  { name: 'image-ls-no-profile', setup: 'fresh', args: () => ['image', 'ls', '-p', p], needsDocker: false, compare: 'exact' },
  { name: 'update-context-no-profile', setup: 'fresh', args: () => ['update-context', '-p', p], needsDocker: false, compare: 'exact' },
  { name: 'stop-no-profile', setup: 'fresh', args: () => ['stop', '-p', p], needsDocker: false, compare: 'exact' },
  // Profile names: `minikube profile NAME` applies the whole rule (pattern, length, reserved words).
  { name: 'profile-name-valid', setup: 'fresh', args: () => ['profile', '--', 'pro-file.1'], needsDocker: false, compare: 'exact' },
  { name: 'profile-name-invalid', setup: 'fresh', args: () => ['profile', '--', 'n_a'], needsDocker: false, compare: 'exact' },
  { name: 'profile-name-reserved', setup: 'fresh', args: () => ['profile', '--', 'Status'], needsDocker: false, compare: 'exact' },
  { name: 'start-invalid-name', setup: 'fresh', args: () => ['start', '-p', 'n_a', '--dry-run'], needsDocker: false, compare: 'errors' },
  // Starts that stop before anything is created.
  { name: 'start-dry-run-forced', setup: 'fresh', args: () => [...dockerDryRun, '--force'], needsDocker: true, compare: 'errors' },
  {
    name: 'start-memory-over-docker-forced',
    setup: 'fresh',
    args: (d) => [...dockerDryRun, '--force', '--memory', `${d.memoryMiB + 1024}mb`],
    needsDocker: true,
    compare: 'errors',
  },
  { name: 'start-memory-over-docker', setup: 'fresh', args: (d) => [...dockerDryRun, '--memory', `${d.memoryMiB + 1024}mb`], needsDocker: true, compare: 'errors' },
  { name: 'start-cpus-over-docker-forced', setup: 'fresh', args: (d) => [...dockerDryRun, '--force', '--cpus', `${d.cpus + 1}`], needsDocker: true, compare: 'errors' },
  { name: 'start-cpus-over-docker', setup: 'fresh', args: (d) => [...dockerDryRun, '--cpus', `${d.cpus + 1}`], needsDocker: true, compare: 'errors' },
  {
    name: 'start-docker-unreachable',
    setup: 'fresh',
    args: () => [...dockerDryRun, '--force'],
    env: { DOCKER_HOST: `unix://${sandboxPlaceholder}/no-docker.sock` },
    needsDocker: false,
    compare: 'errors',
  },
  // A dry run leaves a profile directory without a config: listed as invalid, unknown to status.
  { name: 'status-json-dry-run-leftover', setup: 'dry-run-leftover', args: () => ['status', '-p', p, '-o', 'json'], needsDocker: true, compare: 'exact' },
  { name: 'profile-list-json-dry-run-leftover', setup: 'dry-run-leftover', args: () => ['profile', 'list', '-o', 'json'], needsDocker: true, compare: 'exact' },
  // The profile's config exists, its node (container) never did.
  { name: 'start-download-only-offline', setup: 'fresh', args: () => downloadOnlyStart, env: offline, needsDocker: true, compare: 'reason' },
  { name: 'status-json-node-gone', setup: 'node-gone', args: () => ['status', '-p', p, '-o', 'json'], needsDocker: true, compare: 'exact' },
  { name: 'profile-list-json-node-gone', setup: 'node-gone', args: () => ['profile', 'list', '-o', 'json'], needsDocker: true, compare: 'exact' },
  { name: 'ip-node-gone', setup: 'node-gone', args: () => ['ip', '-p', p], needsDocker: true, compare: 'exact' },
  { name: 'image-ls-node-gone', setup: 'node-gone', args: () => ['image', 'ls', '-p', p], needsDocker: true, compare: 'exact' },
  { name: 'update-context-node-gone', setup: 'node-gone', args: () => ['update-context', '-p', p], needsDocker: true, compare: 'exact' },
  { name: 'stop-node-gone', setup: 'node-gone', args: () => ['stop', '-p', p], needsDocker: true, compare: 'exact' },
  // Made with --mount --mount-string: v1.37.0 takes both and keeps the mount in the profile's config.
  { name: 'profile-list-json-node-gone-mounted', setup: 'node-gone-mounted', args: () => ['profile', 'list', '-o', 'json'], needsDocker: true, compare: 'exact' },
]

const setups: Record<Exclude<Setup, 'fresh'>, { args: string[]; exitCode: number; env?: Record<string, string> }> = {
  'dry-run-leftover': { args: [...dockerDryRun, '--force'], exitCode: 0 },
  // 40: INET_CACHE_BINARIES (the kubectl download fails).
  'node-gone': { args: downloadOnlyStart, exitCode: 40, env: offline },
  'node-gone-mounted': { args: [...downloadOnlyStart, ...minikubeMountArgs(recordedMount)], exitCode: 40, env: offline },
}

/** A throwaway MINIKUBE_HOME (plus KUBECONFIG and TMPDIR) under one temp dir. */
export class Sandbox {
  private constructor(
    readonly binary: string,
    readonly root: string,
  ) {}

  static async create(binary: string): Promise<Sandbox> {
    const root = await mkdtemp(join(tmpdir(), 'minikube-contract-'))
    await mkdir(join(root, 'tmp'))
    return new Sandbox(binary, root)
  }

  /** The environment minikube runs with: nothing of the caller's minikube, kube or proxy settings. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    const inherited = Object.entries(process.env).filter(
      ([key]) => !key.startsWith('MINIKUBE_') && key !== 'KUBECONFIG' && !/^(https?|no|all)_proxy$/i.test(key),
    )
    return {
      ...(Object.fromEntries(inherited) as Record<string, string>),
      PATH: `${dirname(this.binary)}:${process.env.PATH ?? ''}`,
      MINIKUBE_HOME: this.root,
      KUBECONFIG: join(this.root, 'kubeconfig'),
      TMPDIR: join(this.root, 'tmp'),
      // No look-up of newer releases on GitHub (it would add a line when reachable).
      MINIKUBE_WANTUPDATENOTIFICATION: 'false',
      ...Object.fromEntries(Object.entries(extra).map(([key, value]) => [key, value.replaceAll(sandboxPlaceholder, this.root)])),
    }
  }

  /** Runs `minikube args` here; the result's paths still hold the real sandbox path. */
  async run(args: string[], extraEnv?: Record<string, string>): Promise<Recording> {
    const result = await $({ quiet: true, nothrow: true, env: this.env(extraEnv), cwd: this.root, timeout: '120s' })`minikube ${args}`
    return { command: ['minikube', ...args], exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr }
  }

  /** Brings the sandbox into `setup`'s state; throws when minikube does not behave as recorded. */
  async prepare(setup: Setup): Promise<void> {
    if (setup === 'fresh') return
    const step = setups[setup]
    const result = await this.run(step.args, step.env)
    if (result.exitCode !== step.exitCode) {
      throw new Error(`setting up "${setup}": ${result.command.join(' ')} exited ${result.exitCode}, expected ${step.exitCode}:\n${result.stderr}`)
    }
  }

  /** The recording with the sandbox path replaced by `$TMP`. */
  scrub(recording: Recording): Recording {
    const mask = (text: string) => text.replaceAll(this.root, sandboxPlaceholder)
    return { ...recording, command: recording.command.map(mask), stdout: mask(recording.stdout), stderr: mask(recording.stderr) }
  }

  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true })
  }
}

/** Runs one case in a fresh sandbox and returns its scrubbed recording. */
export async function runCase(binary: string, c: Case, docker: DockerResources): Promise<Recording> {
  const sandbox = await Sandbox.create(binary)
  try {
    await sandbox.prepare(c.setup)
    return sandbox.scrub(await sandbox.run(c.args(docker), c.env))
  } finally {
    await sandbox.remove()
  }
}

/** NCPU and MemTotal (MiB) of the docker engine, or undefined when it does not answer. */
export async function dockerResources(): Promise<DockerResources | undefined> {
  const result = await $({ quiet: true, nothrow: true, timeout: '30s' })`docker info --format ${'{{.NCPU}} {{.MemTotal}}'}`
  const [cpus, bytes] = result.stdout.trim().split(/\s+/).map(Number)
  if (result.exitCode !== 0 || !cpus || !bytes) return undefined
  return { cpus, memoryMiB: Math.floor(bytes / 1024 ** 2) }
}

export function fixturePath(name: string): string {
  return join(fixtureDir, `${name}.json`)
}

export async function readFixture(name: string): Promise<Recording> {
  return JSON.parse(await readFile(fixturePath(name), 'utf8')) as Recording
}

/**
 * Output reduced to what the case's comparison looks at, the same way for a fixture and a fresh run
 * (both already scrubbed of the sandbox path).
 */
export function comparable(c: Case, recording: Recording): { exitCode: number; stdout: string; stderr: string } {
  const { exitCode } = recording
  if (c.compare === 'reason') {
    const reason = (text: string) => [...text.matchAll(/Exiting due to ([A-Z_]+)/g)].map((m) => m[1]).join('\n')
    return { exitCode, stdout: reason(recording.stdout), stderr: reason(recording.stderr) }
  }
  if (c.compare === 'errors') {
    const errors = (text: string) =>
      maskVolatile(text)
        .split('\n')
        .filter((line) => /^(X |\* Suggestion:|\* dry-run validation complete)/.test(line))
        .map((line) => line.replace(/\d+/g, 'N'))
        .join('\n')
    return { exitCode, stdout: errors(recording.stdout), stderr: errors(recording.stderr) }
  }
  return { exitCode, stdout: maskVolatile(recording.stdout), stderr: maskVolatile(recording.stderr) }
}

/** Masks what differs from run to run or machine to machine, and nothing else. */
export function maskVolatile(text: string): string {
  return (
    text
      // CloudEvents ids are random UUIDs.
      .replace(/"id":"[0-9a-f-]{36}"/g, '"id":"<uuid>"')
      // klog's header: I1124 16:27:31.310677     582 file.go:184]
      .replace(/^([IWEF])\d{4} \d{2}:\d{2}:\d{2}\.\d+\s+\d+ /gm, '$1<klog> ')
      // "minikube v1.37.0 on Debian 12.11 (docker/amd64)": the host's OS.
      .replace(/(minikube v\S+) on .*$/gm, '$1 on <host>')
      // Crash-log names carry a hash of the command line.
      .replace(/minikube_(\w+?)_[0-9a-f]{40}_\d+\.log/g, 'minikube_$1_<hash>.log')
      // Boxes are padded to their longest line, which holds the sandbox path.
      .replace(/─+/g, '─')
      .replace(/ {2,}/g, ' ')
      .replace(/ +$/gm, '')
  )
}

runIfMain(import.meta.url, async () => {
  const log = (line: string) => console.error(line)
  const binary = await ensureMinikubeBinary(log)
  const docker = await dockerResources()
  const only = process.argv.slice(2)
  const chosen = cases.filter((c) => only.length === 0 || only.some((word) => c.name.includes(word)))
  await mkdir(fixtureDir, { recursive: true })
  const skipped: string[] = []
  for (const c of chosen) {
    if (c.needsDocker && !docker) {
      skipped.push(c.name)
      continue
    }
    const recording = await runCase(binary, c, docker ?? { cpus: 0, memoryMiB: 0 })
    await writeFile(fixturePath(c.name), `${JSON.stringify(recording, null, 2)}\n`)
    log(`${c.name}: exit ${recording.exitCode}`)
  }
  if (skipped.length > 0) throw new Error(`docker did not answer; not recorded: ${skipped.join(', ')}`)
  console.log(fixtureDir)
})
