// The classic README's path, for real: the tool's default commands with --platform minikube against
// a real minikube (docker driver, containerd, our offline node image and caches: test/e2e/minikube-ground.ts).
// cluster:up creates the profile, builds, streams the image into the node's containerd, deploys it by the ID the node lists it under, applies,
// rolls out and reads the UI; a second up changes nothing; pi (its driver on our image although another image took
// our tag in the node); scale; status; down stops minikube; up starts the stopped profile
// again. Then what only a real minikube shows: a profile too small for the cluster is refused before
// anything is applied, and an image the node failed to load is reported. The smoke workflow's steps
// (cluster:up, pi, status, cluster:down) run here with exactly the workflow's arguments.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { $ } from 'zx'
import type { V1Pod } from '@kubernetes/client-node'
import { connectKube, type Kube } from '../../scripts/lib/kube/kube.ts'
import { imageAnnotation } from '../../scripts/lib/kube/pod-image.ts'
import { groundReady } from '../background-ground.ts'
import { smokeArgs } from '../smoke-workflow.ts'
import { cli } from './cli.ts'

const ground = inject('minikubeE2eGround')
const platform = ['--platform', 'minikube']
const profile = ground.env.SPARK_K8S_MINIKUBE_PROFILE
const run = (command: string, ...args: string[]) => cli(ground.env, command, ...platform, ...args)
/** A step of the smoke workflow (.github/workflows/smoke.yml), with exactly its arguments. */
const smoke = (command: 'up' | 'pi' | 'status' | 'down') => cli(ground.env, command, ...smokeArgs(command))
const minikube = $({ env: { ...process.env, ...ground.env }, nothrow: true, quiet: true })
const namespace = 'default'
/** containerd in the node, as minikube's own load and our stream talk to it. */
const ctr = (...args: string[]) => $({ quiet: true })`docker exec ${profile} ctr -n k8s.io ${args}`

/** The profile's host state as `minikube status` reports it (Running, Stopped, …). */
async function hostState(): Promise<string | undefined> {
  const result = await minikube`minikube status -p ${profile} --output json`
  return (JSON.parse(result.stdout) as { Host?: string }).Host
}

describe.skipIf(ground.skipReason)('the classic README on a real minikube (--platform minikube)', () => {
  let kube: Kube
  const connect = async () => (kube = await connectKube(profile, ground.env.KUBECONFIG))
  const workerDeployment = () => kube.apps.readNamespacedDeployment({ name: 'spark-worker', namespace })
  /** The image cluster:up built, as the node's containerd names it, and its ID (this engine's and the node's). */
  let ours: { reference: string; id: string }
  const runsOurs = (pod: V1Pod) => {
    expect([pod.spec!.containers[0].image, pod.metadata!.annotations?.[imageAnnotation]], pod.metadata!.name).toEqual([ours.id, ours.reference])
    expect(pod.status?.containerStatuses?.[0].imageID, pod.metadata!.name).toBe(ours.id)
  }
  const versions = async () =>
    Promise.all([
      kube.apps.readNamespacedDeployment({ name: 'spark-master', namespace }),
      workerDeployment(),
      kube.core.readNamespacedService({ name: 'spark-master-service', namespace }),
    ]).then((objects) => objects.map((o) => o.metadata?.resourceVersion))

  beforeAll(async () => {
    await groundReady(ground.statusFile!, 'the minikube ground')
    // A machine where minikube has never run: no profile (exit 85, "not found").
    const status = await minikube`minikube status -p ${profile} --output json`
    expect([status.exitCode, status.stdout]).toEqual([85, expect.stringContaining(`Profile \\"${profile}\\" not found`)])
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
    expect(result.stderr).toMatch(new RegExp(String.raw`Start minikube: minikube profile ${profile} created \(\d+ CPUs \/ \d+ MiB, driver docker; the Docker engine has`))
    // Streamed into the node's containerd, with no tar in minikube's cache or on the node.
    expect(result.stderr).toMatch(new RegExp(String.raw`Publish the image to the cluster: loaded spark-standalone:\S+ into minikube ${profile} \(docker save piped into the node's containerd\); deployed by its ID sha256:[0-9a-f]{64}`))
    expect(result.stderr).toMatch(new RegExp(String.raw`Check the cluster has room for 1 workers: 0\.85 CPUs \/ 4096 MiB requested, [\d.]+ CPUs \/ \d+ MiB free on node ${profile}`))
    expect(result.stderr).toMatch(/deployment\/spark-master created, service\/spark-master-service created \(NodePorts 7077→30000, 8080→30001\), networkpolicy\/spark-master created, deployment\/spark-worker created/)
    const ip = (await minikube`minikube ip -p ${profile}`).stdout.trim()
    expect(result.json).toMatchObject({ ok: true, platform: 'minikube', uiUrl: `http://${ip}:30001`, aliveWorkers: 1 })
    expect(await hostState()).toBe('Running')
    // The pods run the image by the ID the node lists its name:tag under, its name:tag beside;
    // loaded, never pulled. On this engine's classic image store that is the ID it built it as.
    const [reference, id] = (result.json!.image as string).split('@')
    const listed = JSON.parse((await minikube`minikube -p ${profile} image ls --format json`).stdout) as Array<{ id: string; repoTags: string[] }>
    expect(listed.filter((image) => image.repoTags.includes(`docker.io/library/${reference}`)).map((image) => image.id)).toEqual([id])
    expect(id).toBe((await $({ quiet: true })`docker image inspect --format {{.Id}} ${reference}`).stdout.trim())
    ours = { reference, id }
    await connect()
    const { items } = await kube.core.listNamespacedPod({ namespace, labelSelector: 'app=spark' })
    expect(items).toHaveLength(2)
    items.forEach(runsOurs)
    const { items: events } = await kube.core.listNamespacedEvent({ namespace })
    expect(events.filter((event) => event.reason === 'Pulling')).toEqual([])
    // The classic README's NodePort answers from the host, on the node's address.
    const ui = await fetch(`http://${ip}:30001/json/`, { signal: AbortSignal.timeout(10_000) })
    expect(((await ui.json()) as { aliveworkers: number }).aliveworkers).toBe(1)
  })

  it('a second cluster:up skips every step and changes nothing', async () => {
    const before = await versions()
    const result = await run('up', '--workers', '1')
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stderr).toMatch(new RegExp(String.raw`\[SKIPPED: minikube profile ${profile} already running`))
    expect(result.stderr).toMatch(/\[SKIPPED\].*Build the Spark image/)
    expect(result.stderr).toMatch(new RegExp(String.raw`\[SKIPPED: image \S+ already in minikube ${profile}; deployed by its ID ${ours.id}\]`))
    expect(result.stderr).toMatch(/\[SKIPPED: .*deployment\/spark-worker, poddisruptionbudget\/spark-worker already as declared\]/)
    expect(await versions()).toEqual(before)
  })

  it("pi computes Pi on the cluster, its driver on the image cluster:up loaded although another image now holds the tool's own tag in the node", async () => {
    // Someone tags another image of the node (minikube's pause) with our name:tag; our image stays in the node under a second name.
    const named = `docker.io/library/${ours.reference}`
    const kept = `${named}-kept`
    const pause = (await ctr('images', 'ls', '-q')).stdout.split('\n').find((name) => name.startsWith('registry.k8s.io/pause:'))!
    await ctr('images', 'tag', named, kept)
    await ctr('images', 'tag', '--force', pause, named)
    try {
      const drivers = new Map<string, V1Pod>()
      let finished = false
      const pi = smoke('pi').finally(() => (finished = true))
      while (!finished) {
        const { items: pods } = await kube.core.listNamespacedPod({ namespace, labelSelector: 'app=spark,role=driver' })
        for (const pod of pods) if (pod.status?.containerStatuses?.[0].imageID) drivers.set(pod.metadata!.name!, pod)
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
      const result = await pi
      expect(result.exitCode, result.stderr).toBe(0)
      expect(Math.abs(result.json!.pi - Math.PI)).toBeLessThan(0.01)
      expect(drivers.size).toBe(1)
      drivers.forEach(runsOurs)
    } finally {
      // Our name back on our image, for the tests that follow.
      await ctr('images', 'tag', '--force', kept, named)
      await ctr('images', 'rm', kept)
    }
  })

  it('scale 3 is refused with the numbers and changes nothing (the profile was sized for one worker); scale 1 keeps one', async () => {
    // cluster:up sized the profile for what one worker needs (2 CPUs, minikube's minimum): beside
    // minikube's own 0.75 CPU, the master 0.1 + 3 × 0.5 + 0.25 kept for a driver cannot fit.
    const before = await versions()
    const up = await run('scale', '3', '--json')
    expect(up.exitCode).not.toBe(0)
    expect(up.stderr).toMatch(new RegExp(String.raw`^error: node ${profile} has no room for this cluster: it requests 1\.85 CPUs \/ 8192 MiB \(master 0\.1\/1024, 3 workers × 0\.5\/2048, Pi driver 0\.25\/1024 \(CPUs\/MiB\)\), [\d.]+ CPUs \/ \d+ MiB is free$`, 'm'))
    expect(await versions()).toEqual(before)
    const one = await run('scale', '1', '--json')
    expect(one.exitCode, one.stderr).toBe(0)
    expect(one.json).toMatchObject({ ok: true, aliveWorkers: 1 })
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
    expect(result.stderr).toMatch(new RegExp(String.raw`^error: minikube profile ${profile} \(\d+ CPUs \/ \d+ MiB\) has no room for this cluster`, 'm'))
    expect(result.stderr).toMatch(new RegExp(String.raw`minikube delete -p ${profile}`))
    expect(result.stderr).not.toMatch(/Apply manifests/)
    expect(await versions()).toEqual(before)
  })

  it('--data on the profile made without a mount is refused in one line (minikube cannot add one), changing nothing', async () => {
    const before = await versions()
    // A folder of its own: /tmp itself is refused as a data folder (a top-level folder).
    const result = await run('up', '--workers', '1', '--data', mkdtempSync(join(tmpdir(), 'lake-')))
    expect(result.exitCode).toBe(1)
    expect(result.stderr.split('\n').filter((line) => line.startsWith('error:'))).toEqual([`error: minikube profile ${profile} was created without a data folder, and minikube cannot change a profile's mount`])
    expect(result.stderr).toContain(`minikube delete -p ${profile}`)
    expect(await versions()).toEqual(before)
  })

  it('cluster:down deletes the cluster and stops minikube; status then says it is stopped', async () => {
    const result = await smoke('down')
    expect(result.exitCode, result.stderr).toBe(0)
    // CoreDNS was killed in the node before minikube powered it off (no note that it could not be).
    expect(result.stderr).toMatch(new RegExp(String.raw`Stop minikube: minikube profile ${profile} stopped \[`))
    expect(await hostState()).toBe('Stopped')
    const status = await run('status')
    expect(status.exitCode).not.toBe(0)
    expect(status.stderr).toMatch(new RegExp(String.raw`minikube profile ${profile} is stopped — run \`npm run cluster:up\``))
    const again = await run('down')
    expect(again.exitCode, again.stderr).toBe(0)
    expect(again.stderr).toMatch(new RegExp(String.raw`SKIPPED: minikube profile ${profile} is not running: nothing to delete`))
  })

  it('cluster:up starts the stopped profile again and the cluster comes back', async () => {
    const result = await run('up', '--workers', '1', '--json')
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stderr).toMatch(new RegExp(String.raw`Start minikube: minikube profile ${profile} started`))
    expect(result.json).toMatchObject({ ok: true, aliveWorkers: 1 })
    expect(await hostState()).toBe('Running')
  })

  it('an image the node fails to load is reported, and nothing is applied', async () => {
    await connect()
    const before = await versions()
    // containerd down in the node: the stream fails, then `minikube image load` still exits 0; the tool asks `image ls`.
    await minikube`docker exec ${profile} systemctl stop containerd`
    try {
      const result = await run('up', '--workers', '1', '--image', 'spark-standalone-unloadable')
      expect(result.exitCode).not.toBe(0)
      expect(result.stderr).toMatch(new RegExp(String.raw`^error: minikube profile ${profile} does not list image spark-standalone-unloadable:\S+ after \`minikube image load\``, 'm'))
      // The stream into the node failed first (ctr cannot reach containerd), and says so.
      expect(result.stderr).toMatch(new RegExp(String.raw`streaming into the node failed first: \`docker exec -i ${profile} ctr -n=k8s.io images import -\` failed: .*containerd\.sock`))
      expect(result.stderr).not.toMatch(/Apply manifests/)
    } finally {
      await minikube`docker exec ${profile} systemctl start containerd`
      const tags = (await $({ quiet: true })`docker images --format {{.Repository}}:{{.Tag}} spark-standalone-unloadable`).stdout.split('\n').filter(Boolean)
      if (tags.length) await $({ quiet: true })`docker rmi ${tags}`
    }
    expect(await versions()).toEqual(before)
  })
})
