// Elastic workers, the tool's side (scripts/elastic.ts, scripts/lib/kube/autoscaler.ts): the
// controller of manifests/elastic/ rendered and applied on Kubernetes, ended by a fixed count (scale
// says so), read back for `status` with its Events (test/fixtures/elastic/events.json: written after
// the Events the contract of issue 35 describes, plus one of the Deployment controller's own), and
// refused on Docker. A fake API holding the objects, as delete.test.ts has.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { CoreV1Event, KubernetesObject, V1Deployment } from '@kubernetes/client-node'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { parseConfig } from '../../scripts/lib/config.ts'
import { describeRange, formatIdle, workersInRange } from '../../scripts/lib/elastic.ts'
import { UsageError } from '../../scripts/lib/errors.ts'
import type { Kube } from '../../scripts/lib/kube/kube.ts'
import { envValue, loadManifests, mainContainer, renderAutoscaler } from '../../scripts/lib/manifests.ts'
import { repoRoot } from '../../scripts/lib/paths.ts'
import { makeTarget } from '../../scripts/lib/target.ts'
import { formatStatus, type StatusReport } from '../../scripts/status.ts'

const applied: KubernetesObject[][] = []
const applyOutcome = { value: { done: '' } as { done: string } | { skipped: string } }
vi.mock('../../scripts/lib/kube/apply.ts', () => ({
  applyToKubernetes: vi.fn(async (_kube: unknown, objects: KubernetesObject[]) => {
    applied.push(objects)
    return applyOutcome.value
  }),
}))
const { applyElastic, elasticWorkers, endElastic, startingWorkers } = await import('../../scripts/elastic.ts')
const { setWorkerCount } = await import('../../scripts/scale.ts')

const manifests = loadManifests()
const recordedEvents = (JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/elastic/events.json'), 'utf8')) as { items: CoreV1Event[] }).items

/** A fake API holding Deployments by name, deleting any object and listing the fixture's Events. */
function fakeKube(deployments: Record<string, V1Deployment>) {
  const notFound = () => Object.assign(new Error('HTTP-Code: 404'), { code: 404 })
  const calls: string[] = []
  const kube = {
    k8s: { PatchStrategy: { MergePatch: 'application/merge-patch+json' } },
    apps: { readNamespacedDeployment: async ({ name }: { name: string }) => deployments[name] ?? Promise.reject(notFound()) },
    core: {
      listNamespacedEvent: async ({ namespace, fieldSelector }: { namespace: string; fieldSelector: string }) => {
        calls.push(`list events ${namespace} ${fieldSelector}`)
        return { items: recordedEvents }
      },
    },
    objects: {
      delete: async (o: KubernetesObject, _pretty: unknown, _dryRun: unknown, _grace: unknown, _orphan: unknown, propagation: string) => {
        calls.push(`delete ${o.kind}/${o.metadata!.name} ${propagation}`)
        if (o.kind === 'Deployment') delete deployments[o.metadata!.name!]
      },
      patch: async (o: V1Deployment) => {
        calls.push(`patch ${o.kind}/${o.metadata!.name} ${JSON.stringify(o.spec)}`)
        return o
      },
    },
  }
  return { kube: kube as unknown as Kube, calls }
}

const worker = (replicas: number): V1Deployment => ({ ...structuredClone(manifests.worker), spec: { ...structuredClone(manifests.worker.spec!), replicas } })

/** The controller's Deployment as cluster:up --workers 1..6 applied it. */
const runningController = (): V1Deployment => renderAutoscaler(manifests, { image: 'spark:1', namespace: 'team-b', range: { min: 1, max: 6 }, idleSeconds: 120 })[3] as V1Deployment

const kubeTarget = (argv: string[], kube: Kube, command: 'up' | 'scale' | 'status' = 'up') =>
  makeTarget(parseConfig(command, [...argv, '--platform', 'kubernetes', '--context', 'lab', '--namespace', 'team-b'], {}), 'kubernetes', manifests, async () => kube)

beforeEach(() => {
  applied.length = 0
  applyOutcome.value = { done: '' }
})

describe('the range in words', () => {
  it('says the idle time as the flag would, and keeps a count inside the range', () => {
    expect([formatIdle(90), formatIdle(120), formatIdle(3600), formatIdle(5400)]).toEqual(['90s', '2m', '1h', '90m'])
    expect(describeRange({ min: 1, max: 6 }, 120)).toBe('1..6 (idle 2m)')
    expect([undefined, 0, 1, 4, 6, 9].map((live) => workersInRange(live, { min: 1, max: 6 }))).toEqual([1, 1, 1, 4, 6, 6])
    expect(workersInRange(undefined, { min: 2, max: 6 })).toBe(2)
  })
})

describe('renderAutoscaler', () => {
  it("sets the cluster's image, the namespace and the range's three env values, rights before the pod", () => {
    const objects = renderAutoscaler(manifests, { image: 'registry:5000/spark@sha256:abc', namespace: 'team-b', range: { min: 2, max: 5 }, idleSeconds: 90 })
    expect(objects.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual(['ServiceAccount/spark-autoscaler', 'Role/spark-autoscaler', 'RoleBinding/spark-autoscaler', 'Deployment/spark-autoscaler'])
    expect(objects.every((o) => o.metadata?.namespace === 'team-b')).toBe(true)
    const container = mainContainer(objects[3] as V1Deployment)
    expect(container.image).toBe('registry:5000/spark@sha256:abc')
    expect(['SPARK_WORKERS_MIN', 'SPARK_WORKERS_MAX', 'SPARK_WORKER_IDLE_SECONDS'].map((name) => envValue(container, name))).toEqual(['2', '5', '90'])
    // The parsed files stay as they are: a second render starts from them.
    expect(mainContainer(manifests.autoscaler.deployment).image).toBe('spark:latest')
    expect(manifests.autoscaler.deployment.metadata?.namespace).toBeUndefined()
  })
})

describe('cluster:up with a range on Kubernetes', () => {
  it('starts from the count running when it is inside the range, else the nearer end; MIN for a new cluster', async () => {
    for (const [live, expected] of [[4, 4], [9, 6], [undefined, 1]] as const) {
      const { kube } = fakeKube(live === undefined ? {} : { 'spark-worker': worker(live) })
      expect(await startingWorkers(kubeTarget(['--workers', '1..6'], kube))).toBe(expected)
    }
    // A fixed count is what it says, whatever runs.
    expect(await startingWorkers(kubeTarget(['--workers', '3'], fakeKube({ 'spark-worker': worker(5) }).kube))).toBe(3)
  })

  it('applies the controller rendered for the range, said in one line; unchanged the second time', async () => {
    const { kube } = fakeKube({})
    const target = kubeTarget(['--workers', '1..6', '--worker-idle', '90s'], kube)
    applyOutcome.value = { done: 'serviceaccount/spark-autoscaler created, role/spark-autoscaler created, rolebinding/spark-autoscaler created, deployment/spark-autoscaler created' }
    expect(await applyElastic(target, 'registry:5000/spark@sha256:abc')).toEqual({ done: `elastic workers 1..6 (idle 90s): ${applyOutcome.value.done}` })
    const deployment = applied[0][3] as V1Deployment
    expect(mainContainer(deployment).image).toBe('registry:5000/spark@sha256:abc')
    expect(envValue(mainContainer(deployment), 'SPARK_WORKER_IDLE_SECONDS')).toBe('90')
    applyOutcome.value = { skipped: 'serviceaccount/spark-autoscaler, role/spark-autoscaler, rolebinding/spark-autoscaler, deployment/spark-autoscaler already as declared' }
    expect(await applyElastic(target, 'registry:5000/spark@sha256:abc')).toEqual({ skipped: 'elastic workers 1..6 (idle 90s): spark-autoscaler unchanged' })
  })

  it('without a range removes the controller and its rights, waiting for its pod, and says the range ended', async () => {
    const { kube, calls } = fakeKube({ 'spark-autoscaler': runningController(), 'spark-worker': worker(4) })
    expect(await endElastic(kubeTarget(['--workers', '2'], kube), 2)).toEqual({ done: 'elastic range 1..6 ended: fixed at 2 workers (spark-autoscaler removed)' })
    expect(calls.filter((c) => c.startsWith('delete')).sort()).toEqual(
      ['delete Deployment/spark-autoscaler Foreground', 'delete Role/spark-autoscaler Foreground', 'delete RoleBinding/spark-autoscaler Foreground', 'delete ServiceAccount/spark-autoscaler Foreground'],
    )
    expect(await endElastic(kubeTarget(['--workers', '2'], kube), 2)).toEqual({ skipped: 'no elastic range was set: 2 fixed workers' })
  })
})

describe('scale N on Kubernetes', () => {
  it('ends a range first and says so, then sets the count', async () => {
    const { kube, calls } = fakeKube({ 'spark-autoscaler': runningController(), 'spark-worker': worker(3) })
    const outcome = await setWorkerCount(kubeTarget(['2'], kube, 'scale'), 2)
    expect(outcome).toEqual({ done: 'elastic range 1..6 ended: fixed at 2 workers (spark-autoscaler removed); spark-worker 3 → 2 replicas', expected: { count: 2, cores: 1, memory: '1g' } })
    // The controller is gone before the count changes: it cannot set another after this one.
    expect(calls.findIndex((c) => c.startsWith('patch'))).toBeGreaterThan(calls.findIndex((c) => c === 'delete Deployment/spark-autoscaler Foreground'))
  })

  it('says nothing of a range when none was set', async () => {
    const { kube } = fakeKube({ 'spark-worker': worker(3) })
    expect(await setWorkerCount(kubeTarget(['2'], kube, 'scale'), 2)).toEqual({ done: 'spark-worker 3 → 2 replicas', expected: { count: 2, cores: 1, memory: '1g' } })
  })
})

describe("status: the controller's range and last decisions", () => {
  it("reads its range from its Deployment and its last five Events on the worker Deployment, oldest first, its own only", async () => {
    const workers = worker(2)
    workers.metadata = { ...workers.metadata, uid: 'uid-of-this-cluster' }
    const { kube, calls } = fakeKube({ 'spark-autoscaler': runningController(), 'spark-worker': workers })
    const elastic = await elasticWorkers(kubeTarget([], kube, 'status')).read()
    // This worker Deployment's only: an earlier cluster's Events (same name, another uid) are not this one's decisions.
    expect(calls).toContain('list events team-b involvedObject.kind=Deployment,involvedObject.name=spark-worker,involvedObject.uid=uid-of-this-cluster')
    expect(elastic).toMatchObject({ min: 1, max: 6, idleSeconds: 120 })
    expect(elastic!.events.map((e) => `${e.time} ${e.reason}`)).toEqual([
      '2026-12-06T10:15:27.000Z WorkerAdded',
      '2026-12-06T10:21:40.000Z WorkerRemoved',
      '2026-12-06T10:25:09.000Z CannotServe',
      '2026-12-06T10:26:20.000Z WorkerAdded',
      '2026-12-06T10:29:02.000Z WorkerRemoved',
    ])
    expect(elastic!.events[2]).toEqual({ reason: 'CannotServe', type: 'Warning', time: '2026-12-06T10:25:09.000Z', message: 'app-20261206102500-0002 wants 4 cores × 4096 MiB per executor; a worker has 2 cores, 2048 MiB: adding workers cannot help' })
    expect(await elasticWorkers(kubeTarget([], fakeKube({}).kube, 'status')).read()).toBeUndefined()
  })

  it('prints the range, the idle time, the controller pod and each decision with its age, newest last', async () => {
    const elastic = await elasticWorkers(kubeTarget([], fakeKube({ 'spark-autoscaler': runningController() }).kube, 'status')).read()
    const report: StatusReport = {
      platform: 'kubernetes',
      memberNoun: 'pods',
      ui: { url: 'http://127.0.0.1:8080' },
      members: [{ name: 'spark-autoscaler-5c9d-x2x', role: 'autoscaler', state: 'Running', detail: 'ready 1/1, restarts 0' }],
      elastic,
    }
    const text = formatStatus(report, Date.parse('2026-12-06T10:30:00Z'))
    expect(text).toContain('elastic workers: 1..6, a worker idle for 2m is removed; controller spark-autoscaler-5c9d-x2x Running (ready 1/1, restarts 0)')
    const lines = text.split('\n')
    const first = lines.findIndex((line) => line.includes('10.244.0.7 (2 → 3 alive)'))
    expect(lines.slice(first, first + 5)).toEqual([
      '  14 min 33 s ago  WorkerAdded   added worker 10.244.0.7 (2 → 3 alive): app-20261206101500-0001 waited 12 s for 2 cores',
      '  8 min 20 s ago   WorkerRemoved removed worker 10.244.0.7 (3 → 2): no executor for 120 s',
      '  4 min 51 s ago   CannotServe   app-20261206102500-0002 wants 4 cores × 4096 MiB per executor; a worker has 2 cores, 2048 MiB: adding workers cannot help',
      '  3 min 40 s ago   WorkerAdded   added worker 10.244.0.9 (2 → 3 alive): app-20261206102600-0003 waited 11 s for 1 core',
      '  58 s ago         WorkerRemoved removed worker 10.244.0.9 (3 → 2): no executor for 120 s',
    ])
    // --json carries the same: elastic {min, max, idleSeconds, events[]}.
    expect(JSON.parse(JSON.stringify(report)).elastic).toMatchObject({ min: 1, max: 6, idleSeconds: 120, events: expect.arrayContaining([expect.objectContaining({ reason: 'CannotServe', type: 'Warning' })]) })
    expect(formatStatus({ ...report, elastic: { ...elastic!, events: [] } })).toContain('  (no worker added or removed in the Events the API server keeps: the last hour by default)')
    expect(formatStatus({ ...report, elastic: undefined })).not.toContain('elastic workers')
  })
})

describe('a range on Docker', () => {
  it('is refused in one line saying why and the way on, as bad input', () => {
    const target = makeTarget(parseConfig('up', ['--platform', 'docker', '--workers', '1..3'], {}), 'docker', manifests)
    let error: unknown
    try {
      elasticWorkers(target)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(UsageError)
    const message = (error as UsageError).message
    expect(message).not.toContain('\n')
    for (const words of ['--workers MIN..MAX', "engine's socket", 'root', '--workers N', 'Kubernetes']) expect(message).toContain(words)
  })
})
