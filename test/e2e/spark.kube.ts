// The tool's Kubernetes path against a real cluster: the same code users run against minikube or
// a cloud cluster with --context and --registry. Build, push to a real registry, server-side apply,
// rollout, the master UI through the NodePort, pi, scale, a deleted worker pod, down.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { connectKube, type Kube } from '../../scripts/lib/kube.ts'
import { pollUntil } from '../../scripts/lib/poll.ts'
import { aliveWorkers, fetchMasterState, type MasterState, type WorkerState } from '../../scripts/lib/spark-ui.ts'
import { registryHasTag } from '../../scripts/push-image.ts'
import { cli } from './cli.ts'

const ground = inject('kubeGround')
const platform = ['--platform', 'kubernetes']
const run = (command: string, ...args: string[]) => cli(ground.env, command, ...platform, ...args)
const uiUrl = () => `http://${ground.nodeIp}:30001`

function expectWorkers(state: MasterState, count: number) {
  expect(state.status).toBe('ALIVE')
  const alive = aliveWorkers(state)
  expect(alive).toHaveLength(count)
  for (const worker of alive) expect([worker.cores, worker.memory]).toEqual([1, 1024])
}

describe.skipIf(ground.skipReason)('Spark standalone on a real Kubernetes (--context + --registry)', () => {
  let kube: Kube

  beforeAll(async () => {
    process.env.KUBECONFIG = ground.env.KUBECONFIG
    kube = await connectKube(ground.env.SPARK_K8S_CONTEXT)
    expect((await run('down')).exitCode).toBe(0)
  })

  afterAll(async () => {
    await run('down')
  })

  it('cluster:up builds, pushes to the registry, applies, rolls out and the UI reports 2 ALIVE workers', async () => {
    const result = await run('up', '--workers', '2', '--json')
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.json).toMatchObject({ ok: true, platform: 'kubernetes', uiUrl: uiUrl(), aliveWorkers: 2 })
    expect(result.json!.image).toMatch(new RegExp(`^${ground.env.SPARK_K8S_REGISTRY.replace(/\./g, '\\.')}/spark-standalone:`))
    // Pushed now, or by an earlier run into this same registry: either way the registry has the tag.
    expect(result.stderr).toMatch(/Publish the image to the cluster(: pushed |.*SKIPPED: .* already in the registry)/)
    expect(await registryHasTag(result.json!.image)).toBe(true)
    expectWorkers(await fetchMasterState(uiUrl()), 2)
    // The pods run the pushed image, pulled from the registry by the node.
    const { items } = await kube.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=spark' })
    expect(items.map((pod) => pod.spec!.containers[0].image)).toEqual(items.map(() => result.json!.image))
    expect(items.every((pod) => pod.status?.phase === 'Running')).toBe(true)
    // Server-side apply recorded our field manager.
    const master = await kube.apps.readNamespacedDeployment({ name: 'spark-master', namespace: 'default' })
    expect(master.metadata?.managedFields?.some((f) => f.manager === 'spark-standalone-k8s' && f.operation === 'Apply')).toBe(true)
  })

  it('a second cluster:up skips every step and changes nothing', async () => {
    const versions = async () =>
      Promise.all([
        kube.apps.readNamespacedDeployment({ name: 'spark-master', namespace: 'default' }),
        kube.apps.readNamespacedDeployment({ name: 'spark-worker', namespace: 'default' }),
        kube.core.readNamespacedService({ name: 'spark-master-service', namespace: 'default' }),
      ]).then((objects) => objects.map((o) => o.metadata?.resourceVersion))
    const before = await versions()
    const result = await run('up', '--workers', '2')
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/\[SKIPPED\].*Build the Spark image/)
    expect(result.stderr).toMatch(/\[SKIPPED: .* already in the registry\]/)
    expect(result.stderr).toMatch(/\[SKIPPED: deployment\/spark-master, service\/spark-master-service, deployment\/spark-worker already as declared\]/)
    expect(await versions()).toEqual(before)
  })

  it('pi runs as a Job in the cluster, estimates π within 0.01 and leaves no Job behind', async () => {
    const result = await run('pi', '--json')
    expect(result.exitCode, result.stderr).toBe(0)
    expect(Math.abs(result.json!.pi - Math.PI)).toBeLessThan(0.01)
    await pollUntil('the Job to be gone', 60_000, async () => {
      const { items } = await kube.batch.listNamespacedJob({ namespace: 'default', labelSelector: 'app=spark' })
      return items.length === 0 ? { done: true } : { waiting: `${items.length} jobs` }
    })
  })

  it('scale 3 then 1: the master reports exactly that many ALIVE workers', async () => {
    for (const count of [3, 1]) {
      const result = await run('scale', String(count), '--json')
      expect(result.exitCode, result.stderr).toBe(0)
      expectWorkers(await fetchMasterState(uiUrl()), count)
    }
  })

  it('a deleted worker pod is replaced and its worker registers within 60 s', async () => {
    const [before] = aliveWorkers(await fetchMasterState(uiUrl()))
    // The pod that runs that worker (not one still terminating from the scale down).
    const { items } = await kube.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=spark,role=worker' })
    const pod = items.find((p) => p.status?.podIP === before.host && !p.metadata?.deletionTimestamp)
    expect(pod, `a live pod with IP ${before.host}`).toBeDefined()
    await kube.core.deleteNamespacedPod({ name: pod!.metadata!.name!, namespace: 'default' })
    const fresh = await pollUntil<WorkerState>('a re-registered worker', 60_000, async () => {
      const alive = aliveWorkers(await fetchMasterState(uiUrl()))
      const replaced = alive.filter((worker) => worker.id !== before.id)
      return replaced.length === 1 && alive.length === 1 ? { done: replaced[0] } : { waiting: `${alive.length} alive` }
    })
    expect(fresh.cores).toBe(1)
  })

  it('cluster:down leaves nothing labelled app=spark', async () => {
    const result = await run('down', '--json')
    expect(result.exitCode, result.stderr).toBe(0)
    const selector = { namespace: 'default', labelSelector: 'app=spark' }
    expect((await kube.core.listNamespacedPod(selector)).items).toEqual([])
    expect((await kube.core.listNamespacedService(selector)).items).toEqual([])
    expect((await kube.apps.listNamespacedDeployment(selector)).items).toEqual([])
    expect((await kube.batch.listNamespacedJob(selector)).items).toEqual([])
  })
})
