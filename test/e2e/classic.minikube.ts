// The classic README's path, for real: the tool's default commands with --platform minikube against
// a real minikube (docker driver, containerd, our offline node image and caches: test/e2e/minikube-ground.ts).
// cluster:up creates the profile, builds, `minikube image load`s, applies, rolls out and reads the UI;
// a second up changes nothing; pi; scale; status; down stops minikube; up starts the stopped profile
// again. Then what only a real minikube shows: a profile too small for the cluster is refused before
// anything is applied, and an image the node failed to load is reported. The smoke workflow's steps
// (cluster:up, pi, status, cluster:down) run here with exactly the workflow's arguments.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { $ } from 'zx'
import { connectKube, type Kube } from '../../scripts/lib/kube.ts'
import { kubeCpuToCores } from '../../scripts/lib/units.ts'
import { groundReady } from '../background-ground.ts'
import { smokeArgs } from '../smoke-workflow.ts'
import { cli } from './cli.ts'

const ground = inject('minikubeE2eGround')
const platform = ['--platform', 'minikube']
const profile = 'minikube'
const run = (command: string, ...args: string[]) => cli(ground.env, command, ...platform, ...args)
/** A step of the smoke workflow (.github/workflows/smoke.yml), with exactly its arguments. */
const smoke = (command: 'up' | 'pi' | 'status' | 'down') => cli(ground.env, command, ...smokeArgs(command))
const minikube = $({ env: { ...process.env, ...ground.env }, nothrow: true, quiet: true })
const namespace = 'default'

/** The profile's host state as minikube reports it (Running, Stopped, …), or undefined without a profile. */
async function hostState(): Promise<string | undefined> {
  const result = await minikube`minikube status -p ${profile} --output json`
  try {
    return (JSON.parse(result.stdout) as { Host?: string }).Host
  } catch {
    return undefined
  }
}

describe.skipIf(ground.skipReason)('the classic README on a real minikube (--platform minikube)', () => {
  let kube: Kube
  const connect = async () => (kube = await connectKube(profile, ground.env.KUBECONFIG))
  const workerDeployment = () => kube.apps.readNamespacedDeployment({ name: 'spark-worker', namespace })
  const versions = async () =>
    Promise.all([
      kube.apps.readNamespacedDeployment({ name: 'spark-master', namespace }),
      workerDeployment(),
      kube.core.readNamespacedService({ name: 'spark-master-service', namespace }),
    ]).then((objects) => objects.map((o) => o.metadata?.resourceVersion))

  beforeAll(async () => {
    await groundReady(ground.statusFile!, 'the minikube ground')
    // A machine where minikube has never run: no profile.
    expect(await hostState()).toBeUndefined()
  })

  afterAll(async () => {
    await run('down')
  })

  it('cluster:up starts minikube, builds, loads the image into the node, applies, rolls out and the UI reports its worker', async () => {
    // One worker: minikube's control plane requests 0.75 CPU of this 2-CPU machine, and the room
    // check keeps 0.25 for the Pi driver.
    expect(smokeArgs('up')).toEqual([...platform, '--workers', '1', '--json'])
    const result = await smoke('up')
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/Start minikube: minikube profile minikube created \(\d+ CPUs \/ \d+ MiB, driver docker; the Docker engine has/)
    expect(result.stderr).toMatch(/Publish the image to the cluster: loaded spark-standalone:\S+ into minikube minikube/)
    expect(result.stderr).toMatch(/Check the cluster has room for 1 workers: 0\.85 CPUs \/ 4096 MiB requested, [\d.]+ CPUs \/ \d+ MiB free on node minikube/)
    expect(result.stderr).toMatch(/deployment\/spark-master created, service\/spark-master-service created \(NodePorts 7077→30000, 8080→30001\), deployment\/spark-worker created/)
    const ip = (await minikube`minikube ip -p ${profile}`).stdout.trim()
    expect(result.json).toMatchObject({ ok: true, platform: 'minikube', uiUrl: `http://${ip}:30001`, aliveWorkers: 1 })
    expect(await hostState()).toBe('Running')
    // The node's containerd holds the image the pods run, loaded, never pulled.
    await connect()
    const { items } = await kube.core.listNamespacedPod({ namespace, labelSelector: 'app=spark' })
    expect(items.map((pod) => pod.spec!.containers[0].image)).toEqual(items.map(() => result.json!.image))
    expect((await minikube`minikube -p ${profile} image ls`).stdout).toContain(`/${result.json!.image}`)
    // The classic README's NodePort answers from the host, on the node's address.
    const ui = await fetch(`http://${ip}:30001/json/`, { signal: AbortSignal.timeout(10_000) })
    expect(((await ui.json()) as { aliveworkers: number }).aliveworkers).toBe(1)
  })

  it('a second cluster:up skips every step and changes nothing', async () => {
    const before = await versions()
    const result = await run('up', '--workers', '1')
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/\[SKIPPED: minikube profile minikube already running/)
    expect(result.stderr).toMatch(/\[SKIPPED\].*Build the Spark image/)
    expect(result.stderr).toMatch(/\[SKIPPED: image \S+ already in minikube minikube\]/)
    expect(result.stderr).toMatch(/\[SKIPPED: .*deployment\/spark-worker, poddisruptionbudget\/spark-worker already as declared\]/)
    expect(await versions()).toEqual(before)
  })

  it('pi computes Pi on the cluster', async () => {
    const result = await smoke('pi')
    expect(result.exitCode, result.stderr).toBe(0)
    expect(Math.abs(result.json!.pi - Math.PI)).toBeLessThan(0.01)
  })

  it('scale 3 then 1: the workers follow where the node has room; where it has not, the refusal changes nothing', async () => {
    // Room for 3 workers: the master 0.1 + 3 × 0.5 + 0.25 kept for a driver, beside minikube's own pods.
    const [node] = (await kube.core.listNode()).items
    const { items: pods } = await kube.core.listPodForAllNamespaces()
    const othersCpu = pods
      .filter((pod) => pod.metadata?.labels?.app !== 'spark' && !['Succeeded', 'Failed'].includes(pod.status?.phase ?? ''))
      .flatMap((pod) => pod.spec!.containers)
      .reduce((sum, container) => sum + kubeCpuToCores(container.resources?.requests?.cpu ?? '0'), 0)
    const freeCpu = kubeCpuToCores(node.status!.allocatable!.cpu) - othersCpu
    const before = await versions()
    const up = await run('scale', '3', '--json')
    if (freeCpu >= 1.85) {
      expect(up.exitCode, up.stderr).toBe(0)
      expect(up.json).toMatchObject({ aliveWorkers: 3 })
    } else {
      expect(up.exitCode).not.toBe(0)
      expect(up.stderr).toMatch(/^error: node minikube has no room for this cluster: it requests 1\.85 CPUs \/ 8192 MiB \(master 0\.1\/1024, 3 workers × 0\.5\/2048, Pi driver 0\.25\/1024 \(CPUs\/MiB\)\), [\d.]+ CPUs \/ \d+ MiB is free$/m)
      expect(await versions()).toEqual(before)
    }
    const down = await run('scale', '1', '--json')
    expect(down.exitCode, down.stderr).toBe(0)
    expect(down.json).toMatchObject({ ok: true, aliveWorkers: 1 })
    expect((await workerDeployment()).spec?.replicas).toBe(1)
  })

  it('status shows the running cluster', async () => {
    const result = await smoke('status')
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^platform: minikube$/m)
    expect(result.stdout).toMatch(/spark-worker-\S+ +worker +Running +ready 1\/1/)
    expect(result.stdout).toMatch(/master ALIVE, 1 alive/)
  })

  it('an existing profile too small for the cluster asked for is refused before anything is applied', async () => {
    const before = await versions()
    const result = await run('up', '--workers', '3')
    expect(result.exitCode).not.toBe(0)
    expect(result.stderr).toMatch(/^error: minikube profile minikube \(\d+ CPUs \/ \d+ MiB\) has no room for this cluster/m)
    expect(result.stderr).toMatch(/minikube delete -p minikube/)
    expect(result.stderr).not.toMatch(/Apply manifests/)
    expect(await versions()).toEqual(before)
  })

  it('cluster:down deletes the cluster and stops minikube; status then says it is stopped', async () => {
    const result = await smoke('down')
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/Stop minikube: minikube profile minikube stopped/)
    expect(await hostState()).toBe('Stopped')
    const status = await run('status')
    expect(status.exitCode).not.toBe(0)
    expect(status.stderr).toMatch(/minikube profile minikube is stopped — run `npm run cluster:up`/)
    const again = await run('down')
    expect(again.exitCode, again.stderr).toBe(0)
    expect(again.stderr).toMatch(/SKIPPED: minikube profile minikube is not running: nothing to delete/)
  })

  it('cluster:up starts the stopped profile again and the cluster comes back', async () => {
    const result = await run('up', '--workers', '1', '--json')
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/Start minikube: minikube profile minikube started/)
    expect(result.json).toMatchObject({ ok: true, aliveWorkers: 1 })
    expect(await hostState()).toBe('Running')
  })

  it('an image the node fails to load is reported, and nothing is applied', async () => {
    await connect()
    const before = await versions()
    // containerd down in the node: `minikube image load` still exits 0; the tool asks `image ls`.
    await minikube`docker exec ${profile} systemctl stop containerd`
    try {
      const result = await run('up', '--workers', '1', '--image', 'spark-standalone-unloadable')
      expect(result.exitCode).not.toBe(0)
      expect(result.stderr).toMatch(/^error: minikube profile minikube does not list image spark-standalone-unloadable:\S+ after `minikube image load`/m)
      expect(result.stderr).not.toMatch(/Apply manifests/)
    } finally {
      await minikube`docker exec ${profile} systemctl start containerd`
      await $({ quiet: true, nothrow: true })`docker rmi ${'spark-standalone-unloadable'}`
    }
    expect(await versions()).toEqual(before)
  })
})
