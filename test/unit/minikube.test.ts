// scripts/lib/kube/minikube.ts fed with what the real minikube v1.37.0 printed (test/fixtures/minikube/,
// recorded by scripts/ci/minikube/record.ts and re-checked against the binary by the contract suite).
// No minikube output here is written by hand.
import { readFileSync } from 'node:fs'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { fixturePath, profile, recordedMount, type Recording } from '../../scripts/ci/minikube/record.ts'
import {
  exitReason,
  isRunning,
  jsonValues,
  minikubeEvents,
  minikubeExitCode,
  minikubeStatus,
  minikubeVersionInfo,
  NONEXISTENT,
  profileNameProblem,
  readProfile,
  reservedProfileNames,
} from '../../scripts/lib/kube/minikube.ts'
import { fake } from './fake-proc.ts'

vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))

function fixture(name: string): Recording {
  return JSON.parse(readFileSync(fixturePath(name), 'utf8')) as Recording
}

/** Answers exactly the recorded command with the recorded output; anything else fails the test. */
function replay(name: string): Recording {
  const recording = fixture(name)
  fake.reset((command) => {
    if (command.line !== recording.command.join(' ')) throw new Error(`unexpected command: ${command.line} (replaying ${name})`)
    return recording
  })
  return recording
}

beforeEach(() => fake.reset())

describe('minikubeStatus', () => {
  it('is undefined for a profile that does not exist (exit 85, only message events on stdout)', async () => {
    const recording = replay('status-json-no-profile')
    expect(recording.exitCode).toBe(minikubeExitCode.profileNotFound)
    const status = await minikubeStatus(profile)
    expect(status).toBeUndefined()
    expect(isRunning(status)).toBe(false)
    expect(fake.calls[0].options.nothrow).toBe(true)
  })

  it('is undefined after a dry-run start, which leaves only a profile directory', async () => {
    replay('status-json-dry-run-leftover')
    expect(await minikubeStatus(profile)).toBeUndefined()
  })

  it('is Nonexistent everywhere when the config exists but the node never did (minikube prints null, exit 0)', async () => {
    const recording = replay('status-json-node-gone')
    expect([recording.stdout, recording.exitCode]).toEqual(['null', 0])
    const status = await minikubeStatus(profile)
    expect(status).toEqual({ Name: profile, Host: NONEXISTENT, Kubelet: NONEXISTENT, APIServer: NONEXISTENT, Kubeconfig: NONEXISTENT })
    expect(isRunning(status)).toBe(false)
  })
})

describe('isRunning', () => {
  // Typed values, not minikube output: no running cluster was recorded (see the fixtures' README).
  it('needs Host, Kubelet and APIServer all Running', () => {
    const running = { Host: 'Running', Kubelet: 'Running', APIServer: 'Running' }
    expect(isRunning(undefined)).toBe(false)
    expect(isRunning(running)).toBe(true)
    expect(isRunning({ ...running, Kubelet: 'Stopped' })).toBe(false)
    expect(isRunning({ ...running, APIServer: 'Stopped' })).toBe(false)
    expect(isRunning({ ...running, Host: 'Stopped' })).toBe(false)
  })
})

describe('readProfile', () => {
  it('is undefined when there are no profiles at all ({"invalid":[],"valid":[]}, exit 0)', async () => {
    const recording = replay('profile-list-json-no-profiles')
    expect(recording.exitCode).toBe(0)
    expect(await readProfile(profile)).toBeUndefined()
  })

  it('finds a dry run\'s leftover directory in the invalid list, with no config', async () => {
    replay('profile-list-json-dry-run-leftover')
    expect(await readProfile(profile)).toEqual({
      name: profile,
      status: '',
      driver: '',
      cpus: 0,
      memoryMiB: 0,
      mountString: '',
      nodes: 0,
      containerRuntime: undefined,
      kubernetesVersion: undefined,
      valid: false,
    })
  })

  it('reads a saved config from the valid list: Config.Memory is MiB (--memory 3g was stored as 3072)', async () => {
    const recording = replay('profile-list-json-node-gone')
    expect(recording.stderr).toContain('host does not exist')
    expect(await readProfile(profile)).toEqual({
      name: profile,
      status: '',
      driver: 'docker',
      cpus: 2,
      memoryMiB: 3072,
      mountString: '',
      nodes: 1,
      containerRuntime: 'docker',
      kubernetesVersion: 'v1.34.0',
      valid: true,
    })
    expect(fixture('start-download-only-offline').command).toEqual(expect.arrayContaining(['--cpus', '2', '--memory', '3g']))
  })

  it('reads the mount of a profile started with --mount --mount-string, as cluster:up --data starts one', async () => {
    const recording = replay('profile-list-json-node-gone-mounted')
    expect(await readProfile(profile)).toMatchObject({ driver: 'docker', mountString: recordedMount, valid: true })
    // The docker driver binds what it keeps in ContainerVolumeMounts.
    expect(recording.stdout).toContain(`"ContainerVolumeMounts":["${recordedMount}"]`)
  })

  it('is undefined for a name the list does not hold', async () => {
    replay('profile-list-json-node-gone')
    expect(await readProfile('another')).toBeUndefined()
  })

  it('throws when minikube gives no list at all (here: not installed)', async () => {
    fake.reset(() => ({ exitCode: 127, stderr: 'minikube: command not found' }))
    await expect(readProfile(profile)).rejects.toThrow('minikube profile list -o json gave no profile list: minikube: command not found')
  })
})

describe('minikubeVersionInfo', () => {
  it('reads `minikube version -o json`', async () => {
    replay('version-json')
    expect(await minikubeVersionInfo()).toEqual({ minikubeVersion: 'v1.37.0', commit: '65318f4cfff9c12cc87ec9eb8f4cdd57b25047f3' })
  })
})

describe('what the recorded commands say', () => {
  it('status, ip, update-context and stop without a profile: exit 85 and how to create it', () => {
    for (const name of ['status-json-no-profile', 'ip-no-profile', 'update-context-no-profile', 'stop-no-profile']) {
      expect(fixture(name).exitCode, name).toBe(minikubeExitCode.profileNotFound)
    }
    expect(minikubeEvents(fixture('status-json-no-profile').stdout)).toEqual([
      { type: 'io.k8s.sigs.minikube.info', message: `Profile "${profile}" not found. Run "minikube profile list" to view all profiles.` },
      { type: 'io.k8s.sigs.minikube.info', message: `To start a cluster, run: "minikube start -p ${profile}"` },
    ])
  })

  it('image ls without a profile is a usage error (14); with a config but no node it lists nothing and exits 0', () => {
    const missing = fixture('image-ls-no-profile')
    expect(missing.exitCode).toBe(minikubeExitCode.usage)
    expect(exitReason(missing.stderr)).toEqual({ id: 'MK_USAGE', message: `loading profile: cluster "${profile}" does not exist` })
    expect([fixture('image-ls-node-gone').exitCode, fixture('image-ls-node-gone').stdout.trim()]).toEqual([0, ''])
  })

  it('ip and update-context need the node; stop without a node exits 0', () => {
    expect(fixture('ip-node-gone').exitCode).toBe(minikubeExitCode.profileNotFound)
    expect(fixture('update-context-node-gone').exitCode).toBe(minikubeExitCode.profileNotFound)
    expect(fixture('ip-node-gone').stdout).toContain(`The control-plane node ${profile} host does not exist`)
    expect(fixture('stop-node-gone').exitCode).toBe(0)
    expect(fixture('stop-node-gone').stdout).toContain(`"${profile}" does not exist, nothing to stop`)
  })

  it('the table form of profile list refuses when there are no profiles, the JSON form does not', () => {
    const table = fixture('profile-list-table-no-profiles')
    expect(table.exitCode).toBe(minikubeExitCode.usage)
    expect(exitReason(table.stderr)).toEqual({ id: 'MK_USAGE_NO_PROFILE', message: 'No minikube profile was found.' })
  })

  it('docker driver: memory over the engine\'s is refused even with --force (MK_USAGE, 14)', () => {
    const forced = fixture('start-memory-over-docker-forced')
    expect(forced.exitCode).toBe(minikubeExitCode.usage)
    expect(exitReason(forced.stderr)?.id).toBe('MK_USAGE')
    expect(exitReason(forced.stderr)?.message).toMatch(/^Docker has only \d+MB memory but you specified \d+MB$/)
  })

  it('docker driver: memory over the host\'s without --force is RSRC_OVER_ALLOC_MEM (10)', () => {
    const plain = fixture('start-memory-over-docker')
    expect(plain.exitCode).toBe(minikubeExitCode.programError)
    expect(exitReason(plain.stderr)?.id).toBe('RSRC_OVER_ALLOC_MEM')
    expect(exitReason(plain.stderr)?.message).toMatch(/^Requested memory allocation \d+MB is more than your system limit \d+MB\.$/)
  })

  it('docker driver: more CPUs than the engine has is refused (29) only without --force; with --force it is a warning and exit 0', () => {
    const plain = fixture('start-cpus-over-docker')
    expect(plain.exitCode).toBe(minikubeExitCode.insufficientCores)
    expect(exitReason(plain.stderr)?.message).toMatch(/^Requested cpu count \d+ is greater than the available cpus of \d+$/)
    const forced = fixture('start-cpus-over-docker-forced')
    expect(forced.exitCode).toBe(0)
    expect(exitReason(forced.stderr)).toBeUndefined()
    expect(forced.stderr).toMatch(/^X Requested cpu count \d+ is greater than the available cpus of \d+$/m)
    expect(forced.stdout).toContain('dry-run validation complete!')
  })

  it('docker not answering is a usage error (14)', () => {
    const recording = fixture('start-docker-unreachable')
    expect(recording.exitCode).toBe(minikubeExitCode.usage)
    expect(exitReason(recording.stderr)).toEqual({ id: 'MK_USAGE', message: 'Ensure your Docker is running and is healthy.' })
  })

  it('an offline --download-only start saves the config, then fails downloading binaries (40)', () => {
    const recording = fixture('start-download-only-offline')
    expect(recording.exitCode).toBe(minikubeExitCode.internetError)
    expect(exitReason(recording.stderr)?.id).toBe('INET_CACHE_BINARIES')
  })

  it('profile list -o json ends without a newline; every stdout JSON value is found', () => {
    expect(fixture('profile-list-json-no-profiles').stdout).toBe('{"invalid":[],"valid":[]}')
    expect(jsonValues(fixture('profile-list-json-no-profiles').stdout)).toEqual([{ invalid: [], valid: [] }])
    expect(jsonValues(fixture('status-json-no-profile').stdout)).toHaveLength(2)
  })
})

describe('profileNameProblem (minikube: pkg/minikube/config/profile.go)', () => {
  // minikube's own table (pkg/minikube/config/profile_test.go, TestProfileNameValid).
  it.each(['profile1', 'pro-file', 'pro-file1', '1st-profile', '1st-2nd-3rd-profile', '12567', '111', 'a.b', 'spark.k8s-1', 'ab', 'x'.repeat(80), 'minikube'])(
    '%s is valid',
    (name) => {
      expect(profileNameProblem(name)).toBeUndefined()
    },
  )

  it.each(['1', 'n', ''])('%j is too short (at least 2 characters)', (name) => {
    expect(profileNameProblem(name)).toMatch(/too short/)
  })

  it.each(['pro file', 'pro-file-', '-profile', 'meaningful_name', 'meaningful_name@', 'n_a_m_e_2', '_name', 'N__a.M--E12567', 'a..b', '.ab', 'ab.', 'héllo'])(
    '%j breaks the pattern',
    (name) => {
      expect(profileNameProblem(name)).toMatch(/not valid: only letters, digits and '-'/)
    },
  )

  // TestProfileNameInReservedKeywords: compared without case ("log" is not one).
  it.each([...reservedProfileNames, 'Status', 'LOGS'])('%s is reserved', (name) => {
    expect(profileNameProblem(name)).toMatch(/reserves/)
  })

  it('agrees with the recorded `minikube profile NAME` runs', () => {
    const name = (recording: Recording) => recording.command.at(-1)!
    const valid = fixture('profile-name-valid')
    const invalid = fixture('profile-name-invalid')
    const reserved = fixture('profile-name-reserved')
    expect([valid.exitCode, profileNameProblem(name(valid))]).toEqual([0, undefined])
    expect(invalid.exitCode).toBe(minikubeExitCode.usage)
    expect(profileNameProblem(name(invalid))).toBeDefined()
    expect(reserved.exitCode).toBe(minikubeExitCode.reservedProfile)
    expect(exitReason(reserved.stderr)?.id).toBe('MK_RESERVED_PROFILE')
    expect(profileNameProblem(name(reserved))).toMatch(/reserves/)
    // `minikube start` checks the pattern too (not the reserved words).
    const start = fixture('start-invalid-name')
    expect([start.exitCode, exitReason(start.stderr)?.id]).toEqual([minikubeExitCode.usage, 'MK_USAGE'])
    expect(profileNameProblem('n_a')).toBeDefined()
  })
})
