// The task graphs of tasks.ts, with every step module faked: which steps run, in which order,
// what is skipped, what is printed, and the exit code.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { StepError } from '../../scripts/lib/errors.ts'
import type { MasterState } from '../../scripts/lib/spark-ui.ts'
import { fake } from './fake-proc.ts'
import { jsonExampleMismatches, jsonExamples, readme } from './readme-quotes.ts'

const steps = vi.hoisted(() => {
  const order: string[] = []
  const record =
    <T>(name: string, result: () => T) =>
    async (..._args: unknown[]) => {
      order.push(name)
      return result()
    }
  return { order, record }
})

vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))
vi.mock('../../scripts/lib/platform.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../scripts/lib/platform.ts')>()),
  resolvePlatform: vi.fn(),
}))
vi.mock('../../scripts/lib/kube/kube.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../scripts/lib/kube/kube.ts')>()),
  // Its API server: what the lock is keyed by on Kubernetes (test/unit/cluster-lock.test.ts); no Connect
  // or History server deployed: cluster:up has none to roll.
  connectKube: vi.fn(async (context: string | undefined) => ({
    fake: 'kube',
    context,
    config: { getCurrentCluster: () => ({ server: 'https://api.fake:6443' }) },
    apps: { readNamespacedDeployment: async () => Promise.reject(Object.assign(new Error('not found'), { code: 404 })) },
  })),
}))
vi.mock('../../scripts/lib/diagnostics.ts', () => ({ collectDiagnostics: vi.fn() }))
// The machine-wide lock a real cluster:up on this machine would hold (test/unit/cluster-lock.test.ts tests it).
vi.mock('../../scripts/lib/cluster-lock.ts', () => ({ lockCluster: vi.fn(async () => () => {}) }))
vi.mock('../../scripts/check-deps.ts', () => ({ checkDependencies: vi.fn() }))
vi.mock('../../scripts/check-room.ts', () => ({ checkRoom: vi.fn() }))
vi.mock('../../scripts/lib/kube/secret.ts', () => ({
  declaredAuthSecret: vi.fn(async (_kube: unknown, _manifests: unknown, namespace: string) => ({
    secret: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'spark-auth', namespace } },
    conf: 'spark.authenticate true\nspark.authenticate.secret FAKE-SECRET\n',
  })),
}))
vi.mock('../../scripts/lib/kube/minikube.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../scripts/lib/kube/minikube.ts')>()),
  minikubeStatus: vi.fn(),
}))
vi.mock('../../scripts/minikube-start.ts', () => ({ startMinikube: vi.fn() }))
vi.mock('../../scripts/build-image.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../scripts/build-image.ts')>()),
  buildImage: vi.fn(),
}))
vi.mock('../../scripts/push-image.ts', () => ({ pushImage: vi.fn() }))
vi.mock('../../scripts/lib/docker/apply.ts', () => ({ applyToDocker: vi.fn() }))
vi.mock('../../scripts/lib/kube/apply.ts', () => ({ applyToKubernetes: vi.fn() }))
vi.mock('../../scripts/lib/kube/monitoring.ts', () => ({ applyPodMonitors: vi.fn(async () => ({ skipped: 'SKIP-M the cluster serves no PodMonitor' })) }))
vi.mock('../../scripts/lib/kube/recovery.ts', () => ({ planRecoveryStorage: vi.fn(async (_kube: unknown, claim: unknown, master: unknown) => ({ claim, master })) }))
// What --data / --data-claim need of the cluster (test/unit/storage.test.ts tests it): here, neither.
vi.mock('../../scripts/lib/kube/storage.ts', () => ({ prepareKubeStorage: vi.fn(async () => ({ storage: {} })) }))
vi.mock('../../scripts/wait-ready.ts', () => ({ waitForRollout: vi.fn() }))
vi.mock('../../scripts/verify-ui.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../scripts/verify-ui.ts')>()),
  verifyUi: vi.fn(),
}))
vi.mock('../../scripts/delete.ts', () => ({ deleteCluster: vi.fn() }))
vi.mock('../../scripts/minikube-stop.ts', () => ({ stopMinikube: vi.fn() }))
vi.mock('../../scripts/pi.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../scripts/pi.ts')>()),
  runPi: vi.fn(),
}))
vi.mock('../../scripts/scale.ts', () => ({ setWorkerCount: vi.fn() }))
vi.mock('../../scripts/notebook.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../scripts/notebook.ts')>()),
  notebookCluster: vi.fn(),
  applyNotebook: vi.fn(),
  serveNotebook: vi.fn(),
}))
vi.mock('../../scripts/lib/notebook-image.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../scripts/lib/notebook-image.ts')>()),
  buildNotebookImage: vi.fn(),
  notebookImageReference: vi.fn((clusterImage: string) => `${clusterImage.split('@')[0]}-notebook-abcdefabcdef`),
}))
vi.mock('../../scripts/status.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../scripts/status.ts')>()),
  clusterStatus: vi.fn(),
}))

const { main } = await import('../../scripts/cli.ts')
const { resolvePlatform } = await import('../../scripts/lib/platform.ts')
const { connectKube } = await import('../../scripts/lib/kube/kube.ts')
const { lockCluster } = await import('../../scripts/lib/cluster-lock.ts')
const { collectDiagnostics } = await import('../../scripts/lib/diagnostics.ts')
const { checkDependencies } = await import('../../scripts/check-deps.ts')
const { checkRoom } = await import('../../scripts/check-room.ts')
const { declaredAuthSecret } = await import('../../scripts/lib/kube/secret.ts')
const { applyPodMonitors } = await import('../../scripts/lib/kube/monitoring.ts')
const { loadManifests } = await import('../../scripts/lib/manifests.ts')
const { authConfAnnotation } = await import('../../scripts/lib/cluster-secret.ts')
const { minikubeStatus } = await import('../../scripts/lib/kube/minikube.ts')
const { startMinikube } = await import('../../scripts/minikube-start.ts')
const { buildImage } = await import('../../scripts/build-image.ts')
const { pushImage } = await import('../../scripts/push-image.ts')
const { applyToDocker } = await import('../../scripts/lib/docker/apply.ts')
const { applyToKubernetes } = await import('../../scripts/lib/kube/apply.ts')
const { waitForRollout } = await import('../../scripts/wait-ready.ts')
const { verifyUi } = await import('../../scripts/verify-ui.ts')
const { deleteCluster } = await import('../../scripts/delete.ts')
const { stopMinikube } = await import('../../scripts/minikube-stop.ts')
const { runPi } = await import('../../scripts/pi.ts')
const { setWorkerCount } = await import('../../scripts/scale.ts')
const { clusterStatus } = await import('../../scripts/status.ts')
const { notebookCluster, applyNotebook, serveNotebook } = await import('../../scripts/notebook.ts')
const { buildNotebookImage } = await import('../../scripts/lib/notebook-image.ts')

const uiState: MasterState = {
  url: 'spark://spark-master:7077',
  status: 'ALIVE',
  aliveworkers: 2,
  cores: 2,
  memory: 2048,
  workers: [
    { id: 'worker-1', host: '172.18.0.3', cores: 1, coresused: 0, coresfree: 1, memory: 1024, memoryused: 0, memoryfree: 1024, state: 'ALIVE' },
    { id: 'worker-2', host: '172.18.0.4', cores: 1, coresused: 0, coresfree: 1, memory: 1024, memoryused: 0, memoryfree: 1024, state: 'ALIVE' },
    { id: 'worker-old', host: '172.18.0.9', cores: 1, coresused: 0, coresfree: 1, memory: 1024, memoryused: 0, memoryfree: 1024, state: 'DEAD' },
  ],
  activeapps: [],
  completedapps: [],
}

const pushedDigest = `sha256:${'d'.repeat(64)}`

const stepMocks = [checkDependencies, checkRoom, startMinikube, buildImage, pushImage, applyToDocker, applyToKubernetes, waitForRollout, verifyUi, deleteCluster, stopMinikube, runPi, setWorkerCount, clusterStatus, notebookCluster, buildNotebookImage, applyNotebook, serveNotebook]
const notebookClusterImage = `spark-standalone:4.3.0-py3.11-0123456789ab@sha256:${'e'.repeat(64)}`

function usePlatform(platform: 'docker' | 'minikube' | 'kubernetes') {
  vi.mocked(resolvePlatform).mockImplementation(async () => ({ platform, reason: `faked ${platform}` }))
}

/** Every step succeeds, doing something. */
function stepsSucceed() {
  const { record } = steps
  vi.mocked(checkDependencies).mockImplementation(record('check-deps', () => 'Node.js, docker CLI'))
  vi.mocked(checkRoom).mockImplementation(record('check-room', () => ({ done: '1.35 CPUs / 6144 MiB requested, 2 CPUs / 8000 MiB free on node minikube' })))
  vi.mocked(minikubeStatus).mockImplementation(async () => ({ Name: 'minikube', Host: 'Running', Kubelet: 'Running', APIServer: 'Running', Kubeconfig: 'Configured' }))
  vi.mocked(startMinikube).mockImplementation(record('minikube-start', () => ({ done: 'minikube started' })))
  vi.mocked(buildImage).mockImplementation(record('build-image', () => ({ done: 'image built' })))
  // The pods run what the publish step says: here the built reference pinned to a digest.
  vi.mocked(pushImage).mockImplementation(async (_target, reference) => {
    steps.order.push('push-image')
    return { done: 'image loaded', image: `${reference}@${pushedDigest}` }
  })
  vi.mocked(applyToDocker).mockImplementation(record('apply-docker', () => ({ done: 'containers created' })))
  vi.mocked(applyToKubernetes).mockImplementation(record('apply-kubernetes', () => ({ done: 'deployments created' })))
  vi.mocked(waitForRollout).mockImplementation(record('wait-ready', () => '3 containers running'))
  vi.mocked(verifyUi).mockImplementation(record('verify-ui', () => ({ via: 'http://127.0.0.1:30001', link: { url: 'http://127.0.0.1:30001' }, state: uiState })))
  vi.mocked(deleteCluster).mockImplementation(record('delete', () => ({ done: 'deleted 3 containers' })))
  vi.mocked(stopMinikube).mockImplementation(record('minikube-stop', () => ({ done: 'minikube stopped' })))
  vi.mocked(runPi).mockImplementation(record('pi', () => ({ pi: 3.1415, partitions: 2, samples: 4000000, seconds: 9.5, driver: 'spark-pi-x' })))
  vi.mocked(setWorkerCount).mockImplementation(
    record('scale', () => ({ done: 'spark-worker-3 created', expected: { count: 3, cores: 1, memory: '1g' } })),
  )
  vi.mocked(clusterStatus).mockImplementation(record('status', () => ({ platform: 'docker', memberNoun: 'containers', ui: { url: 'http://127.0.0.1:30001' }, members: [], master: uiState })))
  vi.mocked(collectDiagnostics).mockImplementation(async () => 'DIAGNOSTICS: spark-master running, spark-worker-1 restarting')
  vi.mocked(notebookCluster).mockImplementation(record('notebook-cluster', () => ({ clusterImage: notebookClusterImage, storage: {}, conf: 'CONF', token: 'TOKEN' })))
  vi.mocked(buildNotebookImage).mockImplementation(record('notebook-build', () => ({ skipped: 'image already present' })))
  vi.mocked(applyNotebook).mockImplementation(record('notebook-apply', () => ({ done: 'container spark-notebook created' })))
  vi.mocked(serveNotebook).mockImplementation(record('notebook-serve', () => 0))
}

interface Captured {
  log: string[]
  error: string[]
  stderr: string[]
  stdout: string[]
  /** Everything a person would see, in one string. */
  all(): string
}

let captured: Captured
let savedCI: string | undefined
let listenersBefore: Record<string, Function[]> = {}
const stopSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

beforeEach(() => {
  steps.order.length = 0
  fake.reset()
  for (const mock of stepMocks) vi.mocked(mock).mockReset()
  vi.mocked(collectDiagnostics).mockReset()
  vi.mocked(connectKube).mockClear()
  vi.mocked(resolvePlatform).mockReset()
  stepsSucceed()
  usePlatform('docker')
  listenersBefore = Object.fromEntries(stopSignals.map((signal) => [signal, process.listeners(signal)]))
  savedCI = process.env.CI
  process.env.CI = 'true'
  const c: Captured = {
    log: [],
    error: [],
    stderr: [],
    stdout: [],
    all: () => [...c.stderr, ...c.error, ...c.log].join('\n'),
  }
  captured = c
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void c.log.push(args.map(String).join(' ')))
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void c.error.push(args.map(String).join(' ')))
  vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: unknown) => (c.stderr.push(String(chunk)), true)) as typeof process.stderr.write)
  vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown) => (c.stdout.push(String(chunk)), true)) as typeof process.stdout.write)
})

afterEach(() => {
  // main() may install a Ctrl-C handler for its run; drop the ones this test's runs added.
  for (const signal of stopSignals) {
    for (const listener of process.listeners(signal)) {
      if (!listenersBefore[signal].includes(listener)) process.removeListener(signal, listener as (...args: unknown[]) => void)
    }
  }
  vi.restoreAllMocks()
  if (savedCI === undefined) delete process.env.CI
  else process.env.CI = savedCI
})

function jsonSummary(): Record<string, unknown> {
  expect(captured.log).toHaveLength(1)
  return JSON.parse(captured.log[0]) as Record<string, unknown>
}

describe('up', () => {
  it('runs the README steps in order on docker, skipping minikube, and prints a JSON summary', async () => {
    const code = await main(['up', '--json', '--platform', 'docker'])
    expect(code).toBe(0)
    expect(captured.all()).toContain("Docker has no PodMonitor: Prometheus scrapes the master's UI on 127.0.0.1, and finds the workers and drivers by their prometheus.io labels or through the master's /proxy/")
    expect(steps.order).toEqual(['check-deps', 'build-image', 'push-image', 'check-room', 'apply-docker', 'wait-ready', 'verify-ui'])
    expect(startMinikube).not.toHaveBeenCalled()
    expect(applyToKubernetes).not.toHaveBeenCalled()
    expect(connectKube).not.toHaveBeenCalled()

    const summary = jsonSummary()
    expect(summary).toMatchObject({ ok: true, command: 'up', platform: 'docker', uiUrl: 'http://127.0.0.1:30001', aliveWorkers: 2 })
    expect(summary.image).toMatch(/^spark-standalone:4\.3\.0-py3\.\d+-[0-9a-f]{12}@sha256:d{64}$/)
    // The processes the graph runs itself: "is the image there?", asked while the dependencies are
    // checked, and handed to the build step (called with that answer); then the apply's look for a
    // running Connect server, History Server or JupyterLab to bring along (none here).
    expect(fake.calls.map((c) => c.line.split(' --format')[0])).toEqual([
      `docker image inspect ${vi.mocked(buildImage).mock.calls[0][0]}`,
      ...['connect', 'history', 'notebook'].map((role) => `docker ps --all --no-trunc --filter label=app=spark --filter label=app.kubernetes.io/managed-by=spark-standalone-k8s --filter label=role=${role}`),
    ])
    await expect(vi.mocked(buildImage).mock.calls[0][3]).resolves.toBe(true)
    expect(summary.workers).toEqual([
      { id: 'worker-1', host: '172.18.0.3', cores: 1, memoryMiB: 1024 },
      { id: 'worker-2', host: '172.18.0.4', cores: 1, memoryMiB: 1024 },
    ])
    const timings = summary.timingsSeconds as Record<string, number>
    expect(Object.keys(timings)).toHaveLength(9)
    expect(Object.keys(timings)).toEqual(expect.arrayContaining(['Build the Spark image', 'Check the cluster has room for 2 workers', 'Wait for the rollout', 'Publish the image to the cluster']))
    expect(Object.keys(timings).some((title) => /minikube/i.test(title))).toBe(false)
    for (const seconds of Object.values(timings)) expect(typeof seconds).toBe('number')
  })

  it("matches the README's --json example: its keys are the summary's, its values of the same form", async () => {
    expect(await main(['up', '--json', '--platform', 'docker'])).toBe(0)
    const [example] = jsonExamples(readme)
    expect(example).toContain('"command": "up"')
    expect(jsonExampleMismatches(example, jsonSummary())).toEqual([])
  })

  it('passes the configured shape and the built image to the steps, and has the pods run what the publish step pinned', async () => {
    expect(await main(['up', '--platform', 'docker', '--workers', '3', '--worker-cores', '2', '--worker-memory', '2g'])).toBe(0)
    expect(checkDependencies).toHaveBeenCalledWith('docker', expect.objectContaining({ namespace: 'default' }))
    expect(vi.mocked(checkDependencies).mock.calls[0][1].context).toBeUndefined()
    const image = vi.mocked(buildImage).mock.calls[0][0]
    expect(image).toMatch(/^spark-standalone:4\.3\.0-py3\.\d+-[0-9a-f]{12}$/)
    expect(vi.mocked(pushImage).mock.calls[0][0]).toMatchObject({ platform: 'docker' })
    expect(vi.mocked(pushImage).mock.calls[0][1]).toBe(image)
    expect(vi.mocked(checkRoom).mock.calls[0][0]).toMatchObject({ platform: 'docker' })
    expect(vi.mocked(checkRoom).mock.calls[0][1]).toMatchObject({ workers: 3, workerCores: 2, workerMemory: '2g' })
    expect(vi.mocked(applyToDocker).mock.calls[0][1]).toMatchObject({ image: `${image}@${pushedDigest}`, workers: 3, workerCores: 2, workerMemory: '2g' })
    expect(vi.mocked(applyToDocker).mock.calls[0][2]).toMatchObject({ uiKill: false, workerCores: 2 })
    expect(vi.mocked(verifyUi).mock.calls[0][1]).toEqual({ count: 3, cores: 2, memory: '2g' })
  })

  it('without --json prints the UI URL on stdout and progress on stderr', async () => {
    expect(await main(['up', '--platform', 'docker'])).toBe(0)
    expect(captured.log.join('\n')).toContain('Spark master UI: http://127.0.0.1:30001')
    expect(captured.stderr.join('')).toContain('Build the Spark image')
    expect(captured.stdout.join('')).not.toContain('Build the Spark image')
  })

  it('keeps progress off stdout with --json, so stdout is only the summary', async () => {
    expect(await main(['up', '--json', '--platform', 'docker'])).toBe(0)
    expect(captured.stdout.join('')).not.toMatch(/Check dependencies|Build the Spark image|Wait for the rollout/)
    expect(captured.stderr.join('')).toMatch(/Wait for the rollout/)
    expect(() => jsonSummary()).not.toThrow()
  })

  it('shows the reason of every skipped step', async () => {
    usePlatform('minikube')
    const { record } = steps
    vi.mocked(startMinikube).mockImplementation(record('minikube-start', () => ({ skipped: 'SKIP-A minikube profile minikube already running' })))
    vi.mocked(buildImage).mockImplementation(record('build-image', () => ({ skipped: 'SKIP-B image already present' })))
    vi.mocked(pushImage).mockImplementation(record('push-image', () => ({ skipped: 'SKIP-C image already in minikube', image: 'spark-standalone:4.3.0-py3.11-0123456789ab' })))
    vi.mocked(applyToKubernetes).mockImplementation(record('apply-kubernetes', () => ({ skipped: 'SKIP-D deployments already as declared' })))
    const code = await main(['up', '--json'])
    expect(code).toBe(0)
    const output = captured.all()
    for (const reason of ['SKIP-A minikube profile minikube already running', 'SKIP-B image already present', 'SKIP-C image already in minikube', 'SKIP-D deployments already as declared', 'SKIP-M the cluster serves no PodMonitor']) {
      expect(output).toContain(reason)
    }
    expect(jsonSummary()).toMatchObject({ ok: true, platform: 'minikube' })
  })

  it('on minikube starts minikube before the build and applies to Kubernetes', async () => {
    usePlatform('minikube')
    const code = await main(['up'])
    expect(code).toBe(0)
    expect(steps.order).toEqual(['check-deps', 'minikube-start', 'build-image', 'push-image', 'check-room', 'apply-kubernetes', 'wait-ready', 'verify-ui'])
    expect(applyToDocker).not.toHaveBeenCalled()
    expect(connectKube).toHaveBeenCalledWith('minikube')
    const [kube, objects, namespace, createOnly] = vi.mocked(applyToKubernetes).mock.calls[0]
    expect(kube).toMatchObject({ fake: 'kube', context: 'minikube' })
    expect(objects.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
      'Secret/spark-auth',
      'PersistentVolumeClaim/spark-master-recovery',
      'PersistentVolumeClaim/spark-events',
      'Deployment/spark-master',
      'Service/spark-master-service',
      'NetworkPolicy/spark-master',
      'Deployment/spark-worker',
      'PodDisruptionBudget/spark-worker',
    ])
    expect(namespace).toBe('default')
    // The Secret is created, never applied over one another run made meanwhile.
    expect(createOnly).toEqual([objects[0]])
    expect(createOnly![0]).toBe(objects[0])
    const image = vi.mocked(buildImage).mock.calls[0][0]
    const master = objects[3] as { spec: { template: { spec: { containers: Array<{ image: string }> } } } }
    expect(master.spec.template.spec.containers[0].image).toBe(`${image}@${pushedDigest}`)
  })

  it("annotates the master and worker pod templates with the conf's digest, never the secret, so a new conf rolls them", async () => {
    usePlatform('minikube')
    expect(await main(['up'])).toBe(0)
    const objects = vi.mocked(applyToKubernetes).mock.calls[0][1] as Array<{ kind?: string; metadata?: { name?: string }; spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } }>
    const digests = objects.filter((o) => o.kind === 'Deployment').map((o) => o.spec!.template!.metadata!.annotations![authConfAnnotation])
    expect(digests).toHaveLength(2)
    expect(digests[0]).toMatch(/^[0-9a-f]{16}$/)
    expect(digests[1]).toBe(digests[0])
    expect(JSON.stringify(objects.slice(1))).not.toContain('FAKE-SECRET')
  })

  it('passes --ui-kill on to the conf, on Kubernetes and on Docker', async () => {
    usePlatform('minikube')
    vi.mocked(declaredAuthSecret).mockClear()
    expect(await main(['up', '--ui-kill'])).toBe(0)
    expect(vi.mocked(declaredAuthSecret).mock.calls[0].slice(2)).toEqual(['default', expect.objectContaining({ uiKill: true, workerCores: 1 })])
    usePlatform('docker')
    expect(await main(['up', '--ui-kill'])).toBe(0)
    expect(vi.mocked(applyToDocker).mock.calls[0][2]).toMatchObject({ uiKill: true, workerCores: 1 })
  })

  it('says in the apply step when the live Secret was repaired (unusable: a new secret)', async () => {
    usePlatform('minikube')
    vi.mocked(declaredAuthSecret).mockImplementationOnce(async (_kube, _manifests, namespace) => ({
      secret: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'spark-auth', namespace } },
      conf: 'spark.authenticate true\nspark.authenticate.secret FAKE-SECRET\n',
      change: { kind: 'repaired', why: 'its spark-defaults.conf is empty' },
    }))
    expect(await main(['up'])).toBe(0)
    expect(captured.all()).toContain('deployments created; secret/spark-auth repaired (its spark-defaults.conf is empty): a new secret')
  })

  it('on kubernetes does not start minikube and connects to the given context', async () => {
    usePlatform('kubernetes')
    expect(await main(['up', '--context', 'prod-like', '--namespace', 'spark'])).toBe(0)
    expect(steps.order).toEqual(['check-deps', 'build-image', 'push-image', 'check-room', 'apply-kubernetes', 'wait-ready', 'verify-ui'])
    expect(connectKube).toHaveBeenCalledWith('prod-like')
    expect(vi.mocked(applyToKubernetes).mock.calls[0][2]).toBe('spark')
    // The PodMonitors of manifests/monitoring/ go to the same namespace, after the cluster.
    expect(vi.mocked(applyPodMonitors).mock.calls.at(-1)!.slice(1)).toEqual([loadManifests().podMonitors, 'spark'])
    // Commands take turns on the cluster itself (its API server), not on the context's name.
    expect(vi.mocked(lockCluster).mock.calls.at(-1)?.[0]).toEqual({ key: 'kubernetes https://api.fake:6443 namespace spark', name: 'the cluster in namespace spark of context prod-like' })
  })

  it('with a range on Kubernetes: room for MAX, a new cluster at MIN, then the controller, after the cluster', async () => {
    usePlatform('minikube')
    expect(await main(['up', '--workers', '1..3', '--worker-idle', '90s'])).toBe(0)
    expect(steps.order).toEqual(['check-deps', 'minikube-start', 'build-image', 'push-image', 'check-room', 'apply-kubernetes', 'apply-kubernetes', 'wait-ready', 'verify-ui'])
    expect(vi.mocked(checkRoom).mock.calls[0][1]).toMatchObject({ workers: 3 })
    const [cluster, elastic] = vi.mocked(applyToKubernetes).mock.calls.map((call) => call[1] as Array<{ kind?: string; metadata?: { name?: string }; spec?: { replicas?: number; template?: { spec?: { containers: Array<{ image: string; env: Array<{ name: string; value?: string }> }> } } } }>)
    expect(cluster.find((o) => o.metadata?.name === 'spark-worker')!.spec!.replicas).toBe(1)
    expect(elastic.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual(['ServiceAccount/spark-autoscaler', 'Role/spark-autoscaler', 'RoleBinding/spark-autoscaler', 'Deployment/spark-autoscaler'])
    const container = elastic[3].spec!.template!.spec!.containers[0]
    expect(container.image).toBe(`${vi.mocked(buildImage).mock.calls[0][0]}@${pushedDigest}`)
    expect(container.env.filter((e) => e.name.startsWith('SPARK_WORKER')).map((e) => `${e.name}=${e.value}`)).toEqual(['SPARK_WORKERS_MIN=1', 'SPARK_WORKERS_MAX=3', 'SPARK_WORKER_IDLE_SECONDS=90'])
    expect(vi.mocked(verifyUi).mock.calls[0][1]).toMatchObject({ count: 1 })
    expect(captured.all()).toContain('Apply manifests/elastic/ (workers follow demand between 1 and 3): elastic workers 1..3 (idle 90s): deployments created')
    expect(captured.all()).not.toContain('Remove manifests/elastic/')
  })

  it('with a fixed count on Kubernetes first removes a controller, saying when there was none', async () => {
    usePlatform('minikube')
    expect(await main(['up', '--workers', '2'])).toBe(0)
    expect(captured.all()).toContain('Remove manifests/elastic/ (2 fixed workers, no elastic range) [SKIPPED: no elastic range was set: 2 fixed workers')
    expect(vi.mocked(applyToKubernetes)).toHaveBeenCalledTimes(1)
  })

  it.each([
    [['--platform', 'minikube'], 'minikube', 'NodePort'],
    [['--context', 'prod-like'], 'kubernetes', 'ClusterIP'],
    [['--context', 'prod-like', '--expose', 'nodeport'], 'kubernetes', 'NodePort'],
    [['--platform', 'minikube', '--expose', 'clusterip'], 'minikube', 'ClusterIP'],
  ] as const)('%j exposes the master Service as %s → %s', async (argv, platform, type) => {
    usePlatform(platform)
    expect(await main(['up', ...argv])).toBe(0)
    const service = vi.mocked(applyToKubernetes).mock.calls[0][1].find((o) => o.kind === 'Service') as { spec: { type: string; ports: Array<{ nodePort?: number }> } }
    expect(service.spec.type).toBe(type)
    expect(service.spec.ports.some((port) => port.nodePort !== undefined)).toBe(type === 'NodePort')
  })
})

describe('bad input', () => {
  it.each([
    [['up', '--workers', '0']],
    [['up', '--bogus']],
    [['scale']],
    [['scale', '3', '4']],
    [['up', '--context', 'x', '--platform', 'docker']],
    [['launch']],
    [[]],
  ])('%j returns 2 and runs no step at all', async (argv) => {
    expect(await main(argv)).toBe(2)
    expect(steps.order).toEqual([])
    for (const mock of stepMocks) expect(mock).not.toHaveBeenCalled()
    expect(resolvePlatform).not.toHaveBeenCalled()
    expect(collectDiagnostics).not.toHaveBeenCalled()
    expect(captured.error.join('\n')).toMatch(/^error: /)
    expect(captured.error).toHaveLength(1)
    expect(captured.log).toEqual([])
  })

  it('a range on Docker returns 2 in one line saying why, before any step or lock', async () => {
    usePlatform('docker')
    vi.mocked(lockCluster).mockClear()
    expect(await main(['up', '--workers', '1..3'])).toBe(2)
    expect(steps.order).toEqual([])
    for (const mock of stepMocks) expect(mock).not.toHaveBeenCalled()
    expect(lockCluster).not.toHaveBeenCalled()
    expect(fake.calls).toEqual([])
    expect(captured.error).toHaveLength(1)
    expect(captured.error[0]).toMatch(/^error: --workers MIN\.\.MAX needs a controller .*root on this machine: pass a fixed count/)
  })

  it('--help prints the help and returns 0 without running a step', async () => {
    expect(await main(['up', '--help'])).toBe(0)
    expect(steps.order).toEqual([])
    expect(resolvePlatform).not.toHaveBeenCalled()
    expect(captured.log.join('\n')).toMatch(/^Usage: npm run cluster:up/)
  })
})

describe('a failing step', () => {
  it('returns 1, stops the graph and prints the StepError details and the diagnostics', async () => {
    vi.mocked(waitForRollout).mockImplementation(async () => {
      steps.order.push('wait-ready')
      throw new StepError('rollout of spark-worker is stuck', 'DETAILS: pod spark-worker-abc CrashLoopBackOff')
    })
    const code = await main(['up', '--platform', 'docker'])
    expect(code).toBe(1)
    expect(steps.order).toEqual(['check-deps', 'build-image', 'push-image', 'check-room', 'apply-docker', 'wait-ready'])
    expect(verifyUi).not.toHaveBeenCalled()
    const errors = captured.error.join('\n')
    expect(errors).toContain('error: rollout of spark-worker is stuck')
    expect(errors).toContain('DETAILS: pod spark-worker-abc CrashLoopBackOff')
    expect(errors).toContain('DIAGNOSTICS: spark-master running, spark-worker-1 restarting')
    expect(collectDiagnostics).toHaveBeenCalledTimes(1)
    expect(vi.mocked(collectDiagnostics).mock.calls[0][0]).toMatchObject({ platform: 'docker' })
  })

  it('with --json also prints a failed summary', async () => {
    vi.mocked(buildImage).mockImplementation(async () => {
      throw new StepError('docker build of spark failed (exit 1)', 'E: Unable to locate package')
    })
    expect(await main(['up', '--json', '--platform', 'docker'])).toBe(1)
    const summary = jsonSummary()
    expect(summary).toMatchObject({ ok: false, command: 'up', error: 'docker build of spark failed (exit 1)' })
    expect(summary.timingsSeconds).toHaveProperty('Build the Spark image')
    expect(captured.error.join('\n')).toContain('E: Unable to locate package')
  })

  it('missing dependencies are reported with their fixes and without diagnostics', async () => {
    vi.mocked(checkDependencies).mockImplementation(async () => {
      throw new StepError('missing docker CLI, minikube', '  - docker CLI: install Docker\n  - minikube: install minikube')
    })
    expect(await main(['up', '--platform', 'minikube'])).toBe(1)
    expect(buildImage).not.toHaveBeenCalled()
    expect(startMinikube).not.toHaveBeenCalled()
    expect(collectDiagnostics).not.toHaveBeenCalled()
    expect(captured.error.join('\n')).toContain('  - minikube: install minikube')
  })
})

describe('notebook', () => {
  it("checks the cluster, builds (or skips) JupyterLab's image on the cluster's, publishes it, starts it on what the publish pinned, waits, then serves it", async () => {
    fake.reset((command) => (command.line.startsWith('docker inspect') ? { stdout: 'running 0 healthy' } : undefined))
    expect(await main(['notebook', '--platform', 'docker', '--open'])).toBe(0)
    expect(steps.order).toEqual(['notebook-cluster', 'notebook-build', 'push-image', 'notebook-apply', 'notebook-serve'])
    const reference = 'spark-standalone:4.3.0-py3.11-0123456789ab-notebook-abcdefabcdef'
    expect(vi.mocked(buildNotebookImage).mock.calls[0].slice(0, 2)).toEqual([reference, notebookClusterImage])
    expect(vi.mocked(pushImage).mock.calls[0][1]).toBe(reference)
    expect(vi.mocked(applyNotebook).mock.calls[0][1]).toBe(`${reference}@${pushedDigest}`)
    expect(fake.lines()).toEqual(['docker inspect --format {{.State.Status}} {{.RestartCount}} {{if .State.Health}}{{.State.Health.Status}}{{end}} spark-notebook'])
    expect(vi.mocked(serveNotebook).mock.calls[0][1]).toMatchObject({ token: 'TOKEN', storage: {} })
    expect(vi.mocked(serveNotebook).mock.calls[0][2]).toMatchObject({ open: true })
    expect(captured.all()).toContain('image already present')
  })

  it('stops at a cluster it cannot use, in one line, exit 1, building and starting nothing', async () => {
    vi.mocked(notebookCluster).mockImplementation(async () => {
      throw new StepError('no Spark master container here: run `npm run cluster:up` first')
    })
    expect(await main(['notebook', '--platform', 'docker'])).toBe(1)
    expect(captured.error.filter((line) => line.includes('error:'))).toEqual(['\nerror: no Spark master container here: run `npm run cluster:up` first'])
    expect(buildNotebookImage).not.toHaveBeenCalled()
    expect(applyNotebook).not.toHaveBeenCalled()
    expect(serveNotebook).not.toHaveBeenCalled()
  })

  it('refuses a bad --port before anything runs (exit 2)', async () => {
    expect(await main(['notebook', '--port', 'x'])).toBe(2)
    expect(captured.error).toEqual(['error: --port must be a whole number from 0 to 65535 (got "x")'])
    expect(notebookCluster).not.toHaveBeenCalled()
  })
})

describe('down', () => {
  it('on minikube deletes the cluster, then stops minikube', async () => {
    usePlatform('minikube')
    expect(await main(['down'])).toBe(0)
    expect(steps.order).toEqual(['delete', 'minikube-stop'])
    expect(stopMinikube).toHaveBeenCalledWith('minikube')
    expect(vi.mocked(deleteCluster).mock.calls[0][1]).toBeUndefined()
  })

  it('--role worker deletes only the workers and does not stop minikube', async () => {
    usePlatform('minikube')
    expect(await main(['down', '--role', 'worker'])).toBe(0)
    expect(steps.order).toEqual(['delete'])
    expect(vi.mocked(deleteCluster).mock.calls[0][1]).toBe('worker')
    expect(stopMinikube).not.toHaveBeenCalled()
  })

  it('--keep-minikube does not stop minikube', async () => {
    usePlatform('minikube')
    expect(await main(['down', '--keep-minikube'])).toBe(0)
    expect(steps.order).toEqual(['delete'])
    expect(stopMinikube).not.toHaveBeenCalled()
  })

  it('on docker never stops minikube', async () => {
    usePlatform('docker')
    expect(await main(['down'])).toBe(0)
    expect(steps.order).toEqual(['delete'])
  })

  it('shows skip reasons of down', async () => {
    usePlatform('minikube')
    const { record } = steps
    vi.mocked(deleteCluster).mockImplementation(record('delete', () => ({ skipped: 'SKIP-E nothing labelled app=spark' })))
    vi.mocked(stopMinikube).mockImplementation(record('minikube-stop', () => ({ skipped: 'SKIP-F minikube profile minikube is already stopped' })))
    expect(await main(['down'])).toBe(0)
    expect(captured.all()).toContain('SKIP-E nothing labelled app=spark')
    expect(captured.all()).toContain('SKIP-F minikube profile minikube is already stopped')
  })

  it('a failing delete returns 1 without collecting diagnostics', async () => {
    vi.mocked(deleteCluster).mockImplementation(async () => {
      throw new StepError('timed out waiting for everything labelled app=spark to go')
    })
    expect(await main(['down', '--platform', 'docker'])).toBe(1)
    expect(collectDiagnostics).not.toHaveBeenCalled()
    expect(captured.error.join('\n')).toContain('timed out waiting for everything labelled app=spark to go')
  })
})

describe('pi, scale and status', () => {
  it('pi runs the job with --partitions and prints the estimate', async () => {
    expect(await main(['pi', '--platform', 'docker', '--partitions', '4'])).toBe(0)
    expect(steps.order).toEqual(['pi'])
    expect(vi.mocked(runPi).mock.calls[0][1]).toBe(4)
    expect(captured.log.join('\n')).toMatch(/Pi ≈ 3\.141500 .*2 partitions, 4,000,000 samples\) in 9\.5 s/)
  })

  it('pi --json reports the estimate', async () => {
    expect(await main(['pi', '--json', '--platform', 'docker'])).toBe(0)
    expect(jsonSummary()).toMatchObject({ ok: true, command: 'pi', pi: 3.1415, piPartitions: 2, piSamples: 4000000, piSeconds: 9.5 })
  })

  it('scale sets the count, then waits for the rollout while the master UI is asked for what setWorkerCount expects', async () => {
    expect(await main(['scale', '3', '--platform', 'docker'])).toBe(0)
    expect(steps.order).toEqual(['scale', 'verify-ui', 'wait-ready'])
    // The rollout wait is handed the master's answer, and may end with it.
    await expect(vi.mocked(waitForRollout).mock.calls[0][2]).resolves.toBe('the master already reports 2 ALIVE workers')
    expect(vi.mocked(setWorkerCount).mock.calls[0][1]).toBe(3)
    expect(vi.mocked(verifyUi).mock.calls[0][1]).toEqual({ count: 3, cores: 1, memory: '1g' })
  })

  it('status prints the report without a task graph', async () => {
    expect(await main(['status', '--json', '--platform', 'docker'])).toBe(0)
    expect(steps.order).toEqual(['status'])
    expect(JSON.parse(captured.log[0])).toMatchObject({ platform: 'docker', ui: { url: 'http://127.0.0.1:30001' } })
  })

  it.each(['status', 'pi', 'scale'])('%s on a stopped minikube says so in one line and exits 1, touching nothing', async (command) => {
    usePlatform('minikube')
    vi.mocked(minikubeStatus).mockImplementation(async () => ({ Name: 'minikube', Host: 'Stopped', Kubelet: 'Stopped', APIServer: 'Stopped', Kubeconfig: 'Stopped' }))
    vi.mocked(clusterStatus).mockImplementation(async (target) => (await target.kube(), { platform: 'minikube', memberNoun: 'pods', ui: { hint: '' }, members: [] }))
    vi.mocked(runPi).mockImplementation(async (target) => (await target.kube(), { pi: 3, partitions: 1, samples: 1, seconds: 1, driver: '' }))
    vi.mocked(setWorkerCount).mockImplementation(async (target) => (await target.kube(), { skipped: '', expected: { count: 1, cores: 1, memory: '1g' } }))
    const argv = command === 'scale' ? ['scale', '2'] : [command]
    expect(await main(argv)).toBe(1)
    expect(captured.error.join('\n')).toContain('error: minikube profile minikube is stopped — run `npm run cluster:up`')
    expect(connectKube).not.toHaveBeenCalled()
    expect(fake.calls).toEqual([])
  })

  it('a running minikube whose kube context is misconfigured is repaired with minikube update-context', async () => {
    usePlatform('minikube')
    vi.mocked(minikubeStatus).mockImplementation(async () => ({ Name: 'dev', Host: 'Running', Kubelet: 'Running', APIServer: 'Running', Kubeconfig: 'Misconfigured' }))
    vi.mocked(clusterStatus).mockImplementation(async (target) => (await target.kube(), { platform: 'minikube', memberNoun: 'pods', ui: { hint: 'run `npm run ui`' }, members: [] }))
    expect(await main(['status', '--profile', 'dev'])).toBe(0)
    expect(fake.lines()).toEqual(['minikube update-context -p dev'])
    expect(connectKube).toHaveBeenCalledWith('dev')
  })
})
