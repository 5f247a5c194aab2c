// minikube start as laptops run it, fed what minikube v1.37.0 really prints (test/fixtures/minikube):
// an existing profile is read and never re-sized, a new one is sized within what the Docker engine has.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { StepError } from '../../scripts/lib/errors.ts'
import { loadManifests } from '../../scripts/lib/manifests.ts'
import { repoRoot } from '../../scripts/lib/paths.ts'
import { fake, type CannedResult } from './fake-proc.ts'

vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))
const { minikubeHostPath, minikubeSize, startMinikube } = await import('../../scripts/minikube-start.ts')

const manifests = loadManifests()
const profile = 'spark-contract' // the profile name the fixtures were recorded with
const recorded = (name: string): CannedResult & { stdout: string } => JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/minikube/v1.37.0', `${name}.json`), 'utf8'))

/** The recorded profile list with its one profile's Memory (MiB) and CPUs changed: the shape stays minikube's own. */
function profileList(memory: number, cpus: number, config: Record<string, unknown> = {}, fixture = 'profile-list-json-node-gone'): CannedResult {
  const list = recorded(fixture)
  const parsed = JSON.parse(list.stdout)
  Object.assign(parsed.valid[0].Config, { Memory: memory, CPUs: cpus, ...config })
  return { ...list, stdout: JSON.stringify(parsed) }
}

const running: CannedResult = {
  stdout: JSON.stringify({ Name: profile, Host: 'Running', Kubelet: 'Running', APIServer: 'Running', Kubeconfig: 'Configured', Worker: false }),
  exitCode: 0,
}
// What `docker info --format '{{json .}}'` gives on Docker Desktop with 4 CPUs / 7.7 GiB for its VM (fields trimmed).
const dockerDesktop = { stdout: JSON.stringify({ NCPU: 4, MemTotal: 8_241_434_624, OperatingSystem: 'Docker Desktop' }) }

beforeEach(() => fake.reset())

describe('startMinikube with an existing profile', () => {
  it('refuses a profile too small for the pods before starting anything, with its size, the numbers and both remedies', async () => {
    fake.answerByPrefix({ 'minikube profile list': profileList(3072, 2) })
    const error = (await startMinikube({ profile, workers: 2, workerCores: 1, workerMemory: '1g' }, manifests).catch((e: unknown) => e)) as StepError
    expect(error).toBeInstanceOf(StepError)
    expect(error.message).toBe(
      'minikube profile spark-contract (2 CPUs / 3072 MiB) has no room for this cluster: it requests 1.35 CPUs / 6144 MiB (master 0.1/1024, 2 workers × 0.5/2048, Pi driver 0.25/1024 (CPUs/MiB)), 1.25 CPUs / 2816 MiB is free',
    )
    expect(error.details).toMatch(/ask for less: not even one worker of this size fits/)
    expect(error.details).toContain('`minikube delete -p spark-contract`, then `npm run cluster:up`')
    expect(fake.lines()).toEqual(['minikube profile list -o json'])
  })

  it('starts a stopped profile that fits without --cpus/--memory (minikube keeps its size; for docker it would recheck them)', async () => {
    fake.answerByPrefix({ 'minikube profile list': profileList(8192, 4), 'minikube status': recorded('status-json-node-gone'), 'minikube start': {} })
    const outcome = await startMinikube({ profile, workers: 2, workerCores: 1, workerMemory: '1g' }, manifests)
    expect(outcome).toEqual({ done: 'minikube profile spark-contract started (4 CPUs / 8192 MiB, as created)' })
    expect(fake.lines().at(-1)).toBe('minikube start -p spark-contract')
  })

  it('refuses --data on a profile made without that mount, before starting anything: minikube cannot change one', async () => {
    fake.answerByPrefix({ 'minikube profile list': profileList(8192, 4), 'minikube status': running })
    const error = (await startMinikube({ profile, workers: 2, workerCores: 1, workerMemory: '1g', data: '/home/me/lake' }, manifests).catch((e: unknown) => e)) as StepError
    expect(error.message).toBe("minikube profile spark-contract was created without a data folder, and minikube cannot change a profile's mount")
    expect(error.details).toContain('`minikube delete -p spark-contract`, then `npm run cluster:up -- --data /home/me/lake`')
    expect(fake.lines()).toEqual(['minikube profile list -o json'])
  })

  it('takes a profile made with --mount --mount-string for that folder (as recorded from v1.37.0)', async () => {
    fake.answerByPrefix({ 'minikube profile list': profileList(8192, 4, {}, 'profile-list-json-node-gone-mounted'), 'minikube status': running })
    expect(await startMinikube({ profile, workers: 2, workerCores: 1, workerMemory: '1g', data: '/srv/lake' }, manifests)).toMatchObject({ skipped: expect.stringContaining('already running') })
  })

  it('reads a profile of minikube before v1.37 by what its node mounts: --mount-string without --mount, or its home-folder default, mounted nothing', async () => {
    // The config such a start saved (Mount is a field of v1.36.0's ClusterConfig; v1.37.0 dropped it).
    const unmounted = { Mount: false, ContainerVolumeMounts: null }
    for (const mountString of ['/home/me/lake:/mnt/spark-data', '/home/me:/minikube-host']) {
      fake.answerByPrefix({ 'minikube profile list': profileList(8192, 4, { ...unmounted, MountString: mountString }), 'minikube status': running })
      const error = (await startMinikube({ profile, workers: 2, workerCores: 1, workerMemory: '1g', data: '/home/me/lake' }, manifests).catch((e: unknown) => e)) as StepError
      expect(error.message, mountString).toBe("minikube profile spark-contract was created without a data folder, and minikube cannot change a profile's mount")
    }
    // The docker driver with --mount: bound into the node.
    fake.answerByPrefix({ 'minikube profile list': profileList(8192, 4, { Mount: true, MountString: '/home/me/lake:/mnt/spark-data', ContainerVolumeMounts: ['/home/me/lake:/mnt/spark-data'] }), 'minikube status': running })
    expect(await startMinikube({ profile, workers: 2, workerCores: 1, workerMemory: '1g', data: '/home/me/lake' }, manifests)).toMatchObject({ skipped: expect.stringContaining('already running') })
  })

  it("refuses a folder whose name holds ':', which minikube's --mount-string would split, and takes a lower-case drive letter up", async () => {
    fake.answerByPrefix({ 'minikube profile list': profileList(8192, 4) })
    await expect(startMinikube({ profile, workers: 1, workerCores: 1, workerMemory: '1g', data: '/home/me/a:b' }, manifests)).rejects.toThrow("--data /home/me/a:b: minikube's --mount-string cannot carry a folder whose name holds ':'")
    expect(minikubeHostPath('c:\\Users\\me\\lake')).toBe('C:\\Users\\me\\lake')
  })

  it('skips a running profile, saying its real size', async () => {
    fake.answerByPrefix({ 'minikube profile list': profileList(8192, 4), 'minikube status': running })
    expect(await startMinikube({ profile, workers: 2, workerCores: 1, workerMemory: '1g' }, manifests)).toEqual({ skipped: 'minikube profile spark-contract already running (4 CPUs / 8192 MiB)' })
    expect(fake.lines().some((line) => line.startsWith('minikube start'))).toBe(false)
  })
})

describe('startMinikube with no profile', () => {
  const newProfileOnDockerDesktop = () =>
    fake.answerByPrefix({
      'minikube profile list': recorded('profile-list-json-no-profiles'),
      'minikube config get driver': { exitCode: 14 },
      'docker info --format {{.ID}}': { stdout: 'ABCD' },
      'docker info --format {{json .}}': dockerDesktop,
      'minikube start': {},
    })

  it('sizes a new docker-driver profile within the engine (Docker Desktop), not the host', async () => {
    newProfileOnDockerDesktop()
    const outcome = await startMinikube({ profile, workers: 2, workerCores: 1, workerMemory: '1g' }, manifests)
    // Wanted: 1.35 + 1 CPUs → 3; 6144 + 2048 MiB → capped at the engine's 7859 MiB less 1 GiB.
    expect(fake.lines().at(-1)).toBe('minikube start -p spark-contract --cpus 3 --memory 6835mb')
    expect(outcome).toEqual({ done: 'minikube profile spark-contract created (3 CPUs / 6835 MiB, driver docker; the Docker engine has 4 CPUs / 7859 MiB)' })
  })

  it('with --data creates the profile mounting the folder where the pods find it (the docker driver binds it into the node), with --mount for minikube before v1.37', async () => {
    newProfileOnDockerDesktop()
    const outcome = await startMinikube({ profile, workers: 2, workerCores: 1, workerMemory: '1g', data: '/home/me/lake' }, manifests)
    expect(fake.lines().at(-1)).toBe('minikube start -p spark-contract --cpus 3 --memory 6835mb --mount --mount-string /home/me/lake:/mnt/spark-data')
    expect(outcome).toMatchObject({ done: expect.stringContaining('driver docker, mounting /home/me/lake;') })
  })

  it('refuses, before creating anything, a cluster that even the largest profile the engine allows could not hold', async () => {
    newProfileOnDockerDesktop()
    const error = (await startMinikube({ profile, workers: 3, workerCores: 1, workerMemory: '1g' }, manifests).catch((e: unknown) => e)) as StepError
    expect(error.message).toMatch(/^a new minikube profile of 3 CPUs \/ 6835 MiB \(as much as the Docker engine can give\) has no room for this cluster: it requests 1\.85 CPUs \/ 8192 MiB/)
    expect(error.details).toBe('  - ask for less: at most 2 workers of this size fit (--workers 2), or make each smaller (--worker-cores, --worker-memory)\n  - or give Docker more CPUs and memory (Docker Desktop: Settings → Resources)')
    expect(fake.lines().some((line) => line.startsWith('minikube start'))).toBe(false)
  })

  it('reads a no-limit profile (0 CPUs / 0 MiB) as unknown, leaving the check to the node', async () => {
    fake.answerByPrefix({ 'minikube profile list': profileList(0, 0), 'minikube status': running })
    expect(await startMinikube({ profile, workers: 2, workerCores: 1, workerMemory: '1g' }, manifests)).toMatchObject({ skipped: expect.stringContaining('already running') })
  })

  it('starts over an invalid profile (a start that failed before saving its config) like a new one', async () => {
    fake.answerByPrefix({ 'minikube profile list': recorded('profile-list-json-dry-run-leftover'), 'minikube config get driver': { stdout: 'docker' }, 'docker info --format {{json .}}': dockerDesktop, 'minikube start': {} })
    await startMinikube({ profile, workers: 1, workerCores: 1, workerMemory: '1g' }, manifests)
    expect(fake.lines().at(-1)).toMatch(/^minikube start -p spark-contract --cpus 2 --memory \d+mb$/)
  })

  it('uses the configured driver, and this machine for VM drivers', async () => {
    fake.answerByPrefix({ 'minikube profile list': recorded('profile-list-json-no-profiles'), 'minikube config get driver': { stdout: 'kvm2\n' }, 'minikube start': {} })
    await startMinikube({ profile, workers: 1, workerCores: 1, workerMemory: '1g' }, manifests)
    expect(fake.lines().some((line) => line.startsWith('docker info'))).toBe(false)
    expect(fake.lines().at(-1)).toMatch(/^minikube start -p spark-contract --cpus 2 --memory \d+mb$/)
  })

  it('says what to do when the engine is below what minikube accepts at all', async () => {
    fake.answerByPrefix({
      'minikube profile list': recorded('profile-list-json-no-profiles'),
      'minikube config get driver': { stdout: 'docker' },
      'docker info --format {{json .}}': { stdout: JSON.stringify({ NCPU: 1, MemTotal: 2 * 1024 ** 3 }) },
    })
    const error = (await startMinikube({ profile, workers: 1, workerCores: 1, workerMemory: '1g' }, manifests).catch((e: unknown) => e)) as StepError
    expect(error.message).toBe('the Docker engine has 1 CPUs / 2048 MiB; minikube needs at least 2 CPUs and 1800 MiB plus 1 GiB left to the host')
    expect(error.details).toMatch(/Docker Desktop: Settings → Resources/)
    expect(fake.lines().some((line) => line.startsWith('minikube start'))).toBe(false)
  })
})

describe('minikubeSize', () => {
  it('never asks for more than minikube would accept from the recorded refusals: CPUs ≤ the engine, memory below its limit', () => {
    // RSRC_INSUFFICIENT_CORES / RSRC_OVER_ALLOC_MEM, recorded from the real binary on this 2-CPU machine.
    const cpus = Number(/Requested cpu count \d+ is greater than the available cpus of (\d+)/i.exec(recorded('start-cpus-over-docker').stderr ?? '')![1])
    const limit = Number(/system limit (\d+)MB/.exec(recorded('start-memory-over-docker').stderr ?? '')![1])
    const size = minikubeSize(manifests, { workers: 64, workerCores: 8, workerMemory: '64g' }, { cpu: cpus, memoryMiB: limit })
    expect(size.cpu).toBeLessThanOrEqual(cpus)
    expect(size.memoryMiB).toBeLessThan(limit)
  })
})
