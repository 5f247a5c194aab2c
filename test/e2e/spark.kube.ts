// The tool's Kubernetes path against a real cluster: the same code users run against minikube or
// a cloud cluster with --context and --registry. Build, push to a real registry, server-side apply,
// rollout, the master UI through the API server, npm run ui (a real port-forward), pi, scale, a
// deleted worker pod; then a second cluster in another namespace, run by a user bound to one
// namespace only, beside the first; the room check and the fail-fast rollout wait; down.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { V1Pod, V1PodSpec } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { authConfAnnotation, authConfProblem, secretOf, authConfDigest } from '../../scripts/lib/cluster-secret.ts'
import { errorMessage } from '../../scripts/lib/errors.ts'
import { connectKube, kubeGet, type Kube } from '../../scripts/lib/kube/kube.ts'
import { loadManifests, ourLabels, selectorOf } from '../../scripts/lib/manifests.ts'
import { pollUntil } from '../../scripts/lib/poll.ts'
import { aliveWorkers, fetchMasterState, type MasterState, type WorkerState } from '../../scripts/lib/spark-ui.ts'
import { pushedDigest } from '../../scripts/lib/kube/publish.ts'
import { eventsShown } from '../../scripts/lib/kube/autoscaler.ts'
import { run as sh } from '../../scripts/lib/proc.ts'
import { containerdSocket } from '../../scripts/ci/kube-ground.ts'
import { groundReady } from '../background-ground.ts'
import { cli, cliWithInput, startCli } from './cli.ts'
import { expectOtherPythonRefused, expectRefused, expectUdfsThroughConnect, piThroughConnect } from './connect-client.ts'
import { durableArgs, durableCell, expectDecommissioned, expectDurableInStatus, expectDurableResult, expectStressed, stressArgs, waitForOutput } from './durability.ts'
import { expectExecutorLogs, expectFailure, expectUserCode, expectWordcount, failedAppOf, failingArgs, userCodeArgs, userPackages, wordcountArgs } from './submit-apps.ts'
import { hostPythonVersion } from '../../scripts/lib/host-python.ts'
import { parseLabUrl, startKernel, type Kernel } from './jupyter.ts'
import { makeNamespaceUser, type NamespaceUser } from './namespace-user.ts'
import { expectJobMetrics } from './metrics.ts'
import { startPrometheus } from './prometheus.ts'

const ground = inject('kubeGround')
const platform = ['--platform', 'kubernetes']
// Every cluster:up of this suite adds a pip package and a JDBC driver to the image, as --pip and --packages would.
const run = (command: string, ...args: string[]) => cli({ ...ground.env, ...userPackages }, command, ...platform, ...args)
const teamB = 'ssk8s-team-b'

function expectWorkers(state: MasterState, count: number) {
  expect(state.status).toBe('ALIVE')
  const alive = aliveWorkers(state)
  expect(alive).toHaveLength(count)
  for (const worker of alive) expect([worker.cores, worker.memory]).toEqual([1, 1024])
}

/** A NetworkPolicy as client-node reads it back (its model names `from` `_from`). */
type NetworkPolicyShape = { spec?: { podSelector: { matchLabels?: Record<string, string> }; ingress?: Array<{ _from?: unknown[]; ports?: unknown[] }> } }

/** The image ID Docker gives a local image (its config's digest). */
async function imageId(reference: string): Promise<string> {
  return (await sh`docker image inspect --format ${'{{.Id}}'} ${reference}`).stdout.trim()
}

/** The config digest of the manifest the registry holds under this digest: the image ID of what was pushed. */
async function configInRegistry(digest: string): Promise<string> {
  const accept = 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json'
  const response = await fetch(`http://${ground.env.SPARK_K8S_REGISTRY}/v2/spark-standalone/manifests/${digest}`, { headers: { Accept: accept } })
  expect(response.status).toBe(200)
  return ((await response.json()) as { config: { digest: string } }).config.digest
}

/** Moves the tag in the registry to another image (the base image), leaving the local tag on `ours`; the planted digest. */
async function plantInRegistry(reference: string, ours: string): Promise<string> {
  await sh`docker tag ${ground.env.SPARK_K8S_BASE_IMAGE} ${reference}`
  const pushed = await sh`docker push ${reference}`
  await sh`docker tag ${ours} ${reference}`
  return pushedDigest(pushed.stdout)!
}

/** The node forgets every copy of the Spark image it holds, so the next pod of it is pulled from the registry. */
async function forgetOnNode(): Promise<void> {
  const listed = await sh`ctr --address ${containerdSocket} -n k8s.io images ls -q`
  const names = listed.stdout.split('\n').filter((name) => /\/spark-standalone[:@]/.test(name))
  if (names.length) await sh`ctr --address ${containerdSocket} -n k8s.io images rm ${names}`
}

/**
 * The PodMonitor kind as the Prometheus Operator's CRD makes the API server serve it (a minimal
 * schema: the ground runs no operator), so cluster:up applies the PodMonitors and cluster:down removes them.
 */
const podMonitorCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'podmonitors.monitoring.coreos.com' },
  spec: {
    group: 'monitoring.coreos.com',
    scope: 'Namespaced',
    names: { kind: 'PodMonitor', listKind: 'PodMonitorList', plural: 'podmonitors', singular: 'podmonitor' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          // Server-side apply needs spec declared; what is in it is the operator's to check.
          openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
        },
      },
    ],
  },
}

type PodMonitorShape = {
  spec: {
    selector: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values: string[] }> }
    podMetricsEndpoints: Array<{ port: string; path: string }>
  }
}

/**
 * The scrape targets, as pod IP:port/path, that the Prometheus Operator makes of the PodMonitors, and
 * that kubernetes_sd with the usual relabelling makes of the prometheus.io annotations (one per pod),
 * resolved here from the running pods: Debian's prometheus is built without kubernetes_sd_configs.
 * Pod IPs are routable from this host: the node is their bridge's gateway (scripts/ci/kube-ground.ts).
 */
function scrapeTargets(pods: V1Pod[]): { byMonitors: string[]; byAnnotations: string[] } {
  const running = pods.filter((pod) => pod.status?.phase === 'Running')
  const selects = ({ spec: { selector } }: PodMonitorShape, pod: V1Pod) => {
    const labels = pod.metadata?.labels ?? {}
    return (
      Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value) &&
      (selector.matchExpressions ?? []).every((expression) => expression.operator === 'In' && expression.values.includes(labels[expression.key]))
    )
  }
  const portOf = (pod: V1Pod, name: string) => pod.spec!.containers.flatMap((container) => container.ports ?? []).find((port) => port.name === name)?.containerPort
  const monitors = loadManifests().podMonitors as unknown as PodMonitorShape[]
  const byMonitors = monitors.flatMap((monitor) =>
    running.filter((pod) => selects(monitor, pod)).flatMap((pod) => monitor.spec.podMetricsEndpoints.map((endpoint) => `${pod.status!.podIP}:${portOf(pod, endpoint.port)}${endpoint.path}`)),
  )
  const byAnnotations = running
    .map((pod) => ({ ip: pod.status!.podIP, annotations: pod.metadata?.annotations ?? {} }))
    .filter(({ annotations }) => annotations['prometheus.io/scrape'] === 'true')
    .map(({ ip, annotations }) => `${ip}:${annotations['prometheus.io/port']}${annotations['prometheus.io/path']}`)
  return { byMonitors, byAnnotations }
}

/** Every line a person sees on stderr that starts with "error:"; the tool promises exactly one. */
function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('error:'))
}

describe.skipIf(ground.skipReason)('Spark standalone on a real Kubernetes (--context + --registry)', () => {
  let kube: Kube
  /** The application fails.py ran (submit, below), whose logs are read after its workers are gone. */
  let failedAppId: string | undefined
  /** The master's /json/ read the way the tool reads it: the Service proxy of the API server. */
  const masterState = async (namespace = 'default', as: Kube = kube) =>
    JSON.parse(await kubeGet(as, `/api/v1/namespaces/${namespace}/services/spark-master-service:spark-master-webui/proxy/json/`)) as MasterState
  const resourceVersions = async (namespace: string) =>
    Promise.all([
      kube.apps.readNamespacedDeployment({ name: 'spark-master', namespace }),
      kube.apps.readNamespacedDeployment({ name: 'spark-worker', namespace }),
      kube.core.readNamespacedService({ name: 'spark-master-service', namespace }),
    ]).then((objects) => objects.map((o) => o.metadata?.resourceVersion))

  beforeAll(async () => {
    await groundReady(ground.statusFile!, 'the Kubernetes ground')
    process.env.KUBECONFIG = ground.env.KUBECONFIG
    kube = await connectKube(ground.env.SPARK_K8S_CONTEXT)
    expect((await run('down')).exitCode).toBe(0)
    await kube.core.deleteNamespace({ name: teamB }).catch(() => undefined)
    await kube.objects.create(podMonitorCrd).catch((error: unknown) => {
      if ((error as { code?: number }).code !== 409) throw error
    })
    await pollUntil<true>('the PodMonitor kind to be served', 60_000, async () =>
      (await kubeGet(kube, '/apis/monitoring.coreos.com/v1').catch(() => '')).includes('"PodMonitor"') ? { done: true } : { waiting: 'not yet' },
    )
  })

  afterAll(async () => {
    await run('down')
    await kube.core.deleteNamespace({ name: teamB }).catch(() => undefined)
    await kube.objects.delete(podMonitorCrd).catch(() => undefined)
  })

  it('cluster:up builds, pushes to the registry, checks the room, applies, rolls out and the UI reports 2 ALIVE workers', async () => {
    const result = await run('up', '--workers', '2', '--json')
    expect(result.exitCode, result.stderr).toBe(0)
    // ClusterIP by default on a real cluster: no node address to offer, /json/ was read through the API server.
    expect(result.json).toMatchObject({ ok: true, platform: 'kubernetes', uiHint: 'run `npm run ui` to open it on http://localhost', aliveWorkers: 2 })
    expect(result.json!.uiUrl).toBeUndefined()
    expect(result.stderr).toMatch(/Verify the master UI reports 2 ALIVE workers: ALIVE, 2 workers × 1 cores\/1g \(read through the Kubernetes API server/)
    // The cluster serves the PodMonitor kind (the CRD of beforeAll): they go with the cluster.
    expect(result.stderr).toMatch(/Apply manifests\/monitoring\/ \(Prometheus PodMonitors\): podmonitor\/spark-master created, podmonitor\/spark-worker created, podmonitor\/spark-driver created/)
    expect(result.stderr).toMatch(/Check the cluster has room for 2 workers: 1\.35 CPUs \/ 6144 MiB requested, [\d.]+ CPUs \/ \d+ MiB free on node ssk8s-node/)
    expect(result.stderr).toMatch(
      /secret\/spark-auth created, persistentvolumeclaim\/spark-master-recovery created, persistentvolumeclaim\/spark-events created, deployment\/spark-master created, service\/spark-master-service created, networkpolicy\/spark-master created, deployment\/spark-worker created, poddisruptionbudget\/spark-worker created/,
    )
    const service = await kube.core.readNamespacedService({ name: 'spark-master-service', namespace: 'default' })
    expect(service.spec?.type).toBe('ClusterIP')
    expect(service.spec?.ports?.map((port) => port.nodePort)).toEqual([undefined, undefined])
    expect(result.json!.image).toMatch(new RegExp(`^${ground.env.SPARK_K8S_REGISTRY.replace(/\./g, '\\.')}/spark-standalone:`))
    // Always pushed (layers an earlier run sent are not sent again), and deployed by the digest the push reported.
    expect(result.stderr).toMatch(/Publish the image to the cluster: pushed .*, deployed as sha256:[0-9a-f]{64}/)
    expect(result.json!.image).toMatch(/:[^/]+@sha256:[0-9a-f]{64}$/)
    const [reference, digest] = result.json!.image.split('@')
    expect(await configInRegistry(digest)).toBe(await imageId(reference))
    expectWorkers(await masterState(), 2)
    // The pods run the pushed image, pulled from the registry by the node.
    const { items } = await kube.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=spark' })
    expect(items.map((pod) => pod.spec!.containers[0].image)).toEqual(items.map(() => result.json!.image))
    expect(items.every((pod) => pod.status?.phase === 'Running')).toBe(true)
    // Server-side apply recorded our field manager.
    const master = await kube.apps.readNamespacedDeployment({ name: 'spark-master', namespace: 'default' })
    expect(master.metadata?.managedFields?.some((f) => f.manager === 'spark-standalone-k8s' && f.operation === 'Apply')).toBe(true)
    // The pods name the conf they started with by its digest, never the secret.
    const conf = Buffer.from((await kube.core.readNamespacedSecret({ name: 'spark-auth', namespace: 'default' })).data!['spark-defaults.conf'], 'base64').toString()
    for (const pod of items) expect(pod.metadata?.annotations?.[authConfAnnotation]).toBe(authConfDigest(conf))
    expect(conf).toMatch(/^spark\.network\.crypto\.cipher AES\/GCM\/NoPadding$/m)
    // Only our pods may reach the master's RPC port (applied; this ground's bridge CNI does not enforce it).
    const policy = (await kube.objects.read({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'spark-master', namespace: 'default' } })) as unknown as NetworkPolicyShape
    expect(policy.spec?.podSelector.matchLabels).toEqual({ app: 'spark', role: 'master', 'app.kubernetes.io/managed-by': 'spark-standalone-k8s' })
    expect(policy.spec?.ingress?.[0]._from).toEqual([{ podSelector: { matchLabels: { app: 'spark', 'app.kubernetes.io/managed-by': 'spark-standalone-k8s' } } }])
    expect(policy.spec?.ingress?.map((rule) => rule.ports)).toEqual([[{ port: 'spark', protocol: 'TCP' }], [{ port: 'webui', protocol: 'TCP' }]])
    expect(policy.spec?.ingress?.[1]._from).toBeUndefined()
  })

  it('a second cluster:up skips every step and changes nothing', async () => {
    const before = await resourceVersions('default')
    const result = await run('up', '--workers', '2')
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/\[SKIPPED\].*Build the Spark image/)
    expect(result.stderr).toMatch(/Publish the image to the cluster: pushed \(the registry had every layer\) /)
    expect(result.stderr).toMatch(/\[SKIPPED: secret\/spark-auth, persistentvolumeclaim\/spark-master-recovery, persistentvolumeclaim\/spark-events, deployment\/spark-master, service\/spark-master-service, networkpolicy\/spark-master, deployment\/spark-worker, poddisruptionbudget\/spark-worker already as declared\]/)
    expect(await resourceVersions('default')).toEqual(before)
  })

  it("a different image planted under the tool's own tag in the registry reaches no pod: master, workers and a driver run the digest of this build, also after the tag moves again", async () => {
    const first = await run('up', '--workers', '2', '--json')
    expect(first.exitCode, first.stderr).toBe(0)
    const reference = first.json!.image.split('@')[0] as string
    const ours = await imageId(reference)
    expect((await run('down')).exitCode).toBe(0)
    // A neighbour with push rights moves the predictable tag to their image; our engine keeps our build under it.
    const planted = await plantInRegistry(reference, ours)
    await forgetOnNode()

    const up = await run('up', '--workers', '2', '--json')
    expect(up.exitCode, up.stderr).toBe(0)
    expect(up.json!.image).toMatch(new RegExp(`^${reference.replace(/[.]/g, '\\.')}@sha256:[0-9a-f]{64}$`))
    const digest = up.json!.image.split('@')[1] as string
    expect(digest).not.toBe(planted)
    expect(await configInRegistry(digest)).toBe(ours)
    const runsOurs = (pod: V1Pod) => {
      expect(pod.spec!.containers[0].image, pod.metadata!.name).toBe(`${reference}@${digest}`)
      expect(pod.status?.containerStatuses?.[0].imageID, pod.metadata!.name).toMatch(new RegExp(`/spark-standalone@${digest}$`))
    }
    const { items } = await kube.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=spark' })
    expect(items.map((pod) => pod.metadata!.labels!.role).sort()).toEqual(['master', 'worker', 'worker'])
    items.forEach(runsOurs)

    // The tag moves again after cluster:up, and the node has no copy: a driver started now still runs this build.
    await plantInRegistry(reference, ours)
    await forgetOnNode()
    const drivers = new Map<string, V1Pod>()
    let finished = false
    const pi = run('pi').finally(() => (finished = true))
    while (!finished) {
      const { items: pods } = await kube.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=spark,role=driver' })
      for (const pod of pods) if (pod.status?.containerStatuses?.[0].imageID) drivers.set(pod.metadata!.name!, pod)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    expect((await pi).exitCode).toBe(0)
    expect(drivers.size).toBe(1)
    drivers.forEach(runsOurs)
    // The registry's tag back on this build, for the tests that follow.
    await sh`docker push ${reference}`
  })

  it('RPC is authenticated and encrypted: the Secret is ours, kept, seen nowhere else, and a driver without it is refused', async () => {
    const readSecret = async () => {
      const object = await kube.core.readNamespacedSecret({ name: 'spark-auth', namespace: 'default' })
      expect(object.metadata?.labels).toMatchObject({ app: 'spark', 'app.kubernetes.io/managed-by': 'spark-standalone-k8s' })
      return secretOf(Buffer.from(object.data!['spark-defaults.conf'], 'base64').toString())
    }
    const secret = await readSecret()
    expect(secret).toMatch(/^[0-9a-f]{64}$/)
    const again = await run('up', '--workers', '2', '--json')
    expect(again.exitCode, again.stderr).toBe(0)
    expect(await readSecret()).toBe(secret)
    const selector = { namespace: 'default', labelSelector: 'app=spark' }
    const { items: pods } = await kube.core.listNamespacedPod(selector)
    const seen = [again.stdout, again.stderr, JSON.stringify(pods), JSON.stringify((await kube.apps.listNamespacedDeployment(selector)).items)]
    for (const pod of pods) seen.push(String(await kube.core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace: 'default' })))
    for (const text of seen) expect(text.includes(secret!)).toBe(false)
    // A driver inside the cluster, without the Secret: the master refuses it.
    const image = pods[0].spec!.containers[0].image!
    await kube.core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'intruder' },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          containers: [{ name: 'driver', image, command: ['bash', '-c', 'exec /opt/spark/bin/spark-submit --master spark://spark-master-service:7077 --conf spark.driver.host=$(hostname -i) /opt/spark/apps/pi.py'] }],
        },
      },
    })
    try {
      const refused = await pollUntil<string>('the intruding driver to be refused', 90_000, async () => {
        const log = await kube.core.readNamespacedPodLog({ name: 'intruder', namespace: 'default' }).then(String, () => '')
        return /Failed to connect to master spark-master-service:7077/.test(log) ? { done: log } : { waiting: 'no refusal yet' }
      })
      expect(refused).toMatch(/Unknown challenge message/)
      expect(refused).not.toMatch(/PI_RESULT|Connected to Spark cluster with app ID/)
    } finally {
      await kube.core.deleteNamespacedPod({ name: 'intruder', namespace: 'default', gracePeriodSeconds: 0 })
    }
  })

  it('an emptied Secret cannot reach a running cluster: a new master pod refuses to start on it, and cluster:up repairs it and rolls every pod', async () => {
    const namespace = 'default'
    const readConf = async () => Buffer.from((await kube.core.readNamespacedSecret({ name: 'spark-auth', namespace })).data!['spark-defaults.conf'] ?? '', 'base64').toString()
    const before = await readConf()
    const live = await kube.core.readNamespacedSecret({ name: 'spark-auth', namespace })
    await kube.core.replaceNamespacedSecret({ name: 'spark-auth', namespace, body: { ...live, data: { 'spark-defaults.conf': '' } } })
    const podsBefore = (await kube.core.listNamespacedPod({ namespace, labelSelector: 'app=spark' })).items.map((pod) => pod.metadata!.name!)
    const [oldMaster] = (await kube.core.listNamespacedPod({ namespace, labelSelector: 'app=spark,role=master' })).items
    await kube.core.deleteNamespacedPod({ name: oldMaster.metadata!.name!, namespace })
    let repaired = false
    try {
      const refusal = await pollUntil<string>('the new master pod to refuse the empty conf', 180_000, async () => {
        const { items } = await kube.core.listNamespacedPod({ namespace, labelSelector: 'app=spark,role=master' })
        const pod = items.find((p) => p.metadata!.name !== oldMaster.metadata!.name)
        const status = pod?.status?.containerStatuses?.[0]
        const exited = status?.state?.terminated ?? status?.lastState?.terminated
        if (!pod || !exited) return { waiting: 'no new master pod has exited yet' }
        const read = (previous: boolean) => kube.core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace, previous }).then(String, () => '')
        const line = `${await read(false)}\n${await read(true)}`.split('\n').find((l) => l.startsWith('require-auth:'))
        return line ? { done: `${exited.exitCode} ${line}` } : { waiting: 'its log is not readable yet' }
      })
      expect(refusal).toMatch(/^78 require-auth: refusing to start: \/etc\/spark\/auth\/spark-defaults\.conf does not turn on spark\.authenticate/)

      const result = await run('up', '--workers', '2')
      repaired = result.exitCode === 0
      expect(result.exitCode, result.stderr).toBe(0)
      expect(result.stderr).toMatch(/secret\/spark-auth repaired \(its spark-defaults\.conf is empty\): a new secret/)
    } finally {
      // The suite goes on with this cluster: never leave it without its secret.
      if (!repaired) await run('up', '--workers', '2')
    }
    const after = await readConf()
    expect(authConfProblem(after)).toBeUndefined()
    expect(secretOf(after)).not.toBe(secretOf(before))
    // The replaced workers may still be decommissioning (their preStop): the running ones are what counts.
    const pods = (await kube.core.listNamespacedPod({ namespace, labelSelector: 'app=spark' })).items.filter((pod) => !pod.metadata?.deletionTimestamp)
    expect(pods).toHaveLength(3)
    for (const pod of pods) {
      expect(podsBefore).not.toContain(pod.metadata!.name)
      expect(pod.metadata?.annotations?.[authConfAnnotation]).toBe(authConfDigest(after))
    }
    expectWorkers(await masterState(), 2)
  })

  it("the master Service routes only to our master: a same-labelled pod of someone else's gets none of its traffic", async () => {
    const namespace = 'default'
    const image = (await kube.apps.readNamespacedDeployment({ name: 'spark-master', namespace })).spec!.template.spec!.containers[0].image!
    await kube.core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'lookalike-master', labels: { app: 'spark', role: 'master' } },
        spec: { restartPolicy: 'Never', automountServiceAccountToken: false, containers: [{ name: 'c', image, command: ['sleep', '600'] }] },
      },
    })
    try {
      const ip = await pollUntil<string>('the lookalike pod to run', 120_000, async () => {
        const pod = await kube.core.readNamespacedPod({ name: 'lookalike-master', namespace })
        return pod.status?.phase === 'Running' && pod.status.podIP ? { done: pod.status.podIP } : { waiting: pod.status?.phase ?? 'pending' }
      })
      const addressesOf = async (name: string) => {
        const endpoints = await kube.core.readNamespacedEndpoints({ name, namespace }).catch(() => ({ subsets: [] }))
        return (endpoints.subsets ?? []).flatMap((subset) => [...(subset.addresses ?? []), ...(subset.notReadyAddresses ?? [])].map((a) => a.ip))
      }
      // The control: the classic selector (app=spark, role=master) does pick the lookalike up.
      await kube.core.createNamespacedService({ namespace, body: { metadata: { name: 'lookalike-control' }, spec: { selector: { app: 'spark', role: 'master' }, ports: [{ port: 7077 }] } } })
      await pollUntil<true>('the classic selector to pick the lookalike up', 60_000, async () => ((await addressesOf('lookalike-control')).includes(ip) ? { done: true } : { waiting: 'not yet' }))
      const ours = await addressesOf('spark-master-service')
      expect(ours).toHaveLength(1)
      expect(ours).not.toContain(ip)
    } finally {
      await kube.core.deleteNamespacedService({ name: 'lookalike-control', namespace }).catch(() => undefined)
      await kube.core.deleteNamespacedPod({ name: 'lookalike-master', namespace, gracePeriodSeconds: 0 })
    }
  })

  it('npm run ui forwards the master UI to localhost: /json/ answers and a worker page loads through the reverse proxy; Ctrl-C ends it with 0', async () => {
    const ui = startCli(ground.env, 'ui', ...platform, '--port', '0', '--json')
    try {
      const said = JSON.parse(await ui.firstLine) as { url: string; via: string }
      expect(said.url).toMatch(/^http:\/\/localhost:\d+$/)
      expect(said.via).toMatch(/^port-forward to pod spark-master-/)
      const state = await fetchMasterState(said.url)
      expectWorkers(state, 2)
      // Both loopback addresses are held at the port, so a client of localhost reaches the forward either way.
      const port = new URL(said.url).port
      for (const host of ['127.0.0.1', '[::1]']) expectWorkers(await fetchMasterState(`http://${host}:${port}`), 2)
      const worker = aliveWorkers(state)[0]
      const page = await fetch(`${said.url}/proxy/${worker.id}/`)
      expect(page.status).toBe(200)
      expect(await page.text()).toContain(`Spark Worker at ${worker.host}`)
    } finally {
      expect(await ui.stop('SIGINT'), ui.output().stderr).toBe(0)
    }
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

  it("metrics: a real Prometheus scrapes, by pod IP, every endpoint the PodMonitors and the annotations name: the master, each worker and a job's driver; no Service opens a metrics port", async () => {
    const app = startCli(ground.env, 'submit', ...platform, ...durableArgs(8))
    try {
      await waitForOutput(app, /Starting task 0\.0 in stage 0/, 180_000)
      const state = await masterState()
      const workers = aliveWorkers(state).length
      const [{ id: appId, name: appName }] = state.activeapps
      const { byMonitors, byAnnotations } = scrapeTargets((await kube.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=spark' })).items)
      // The master's two paths, each worker's, the driver's two; the annotations name one of each pod's.
      expect(byMonitors).toHaveLength(2 + workers + 2)
      expect(byMonitors).toEqual(expect.arrayContaining(byAnnotations))
      expect(byAnnotations).toHaveLength(1 + workers + 1)
      const [address, path] = [(target: string) => target.slice(0, target.indexOf('/')), (target: string) => target.slice(target.indexOf('/'))]
      const prometheus = await startPrometheus([
        { job_name: 'spark', static_configs: byMonitors.map((target) => ({ targets: [address(target)], labels: { __metrics_path__: path(target), instance: target } })) },
      ])
      try {
        await prometheus.allUp(60_000, byMonitors.length)
        await expectJobMetrics(prometheus, { workers, appId, appName })
      } finally {
        await prometheus.stop()
      }
      // No wider than the UIs: the only Service port of ours to a UI is the master's.
      const services = await kube.core.listNamespacedService({ namespace: 'default', labelSelector: 'app=spark' })
      expect(services.items.flatMap((service) => service.spec!.ports!.map((port) => String(port.targetPort)))).toEqual(['spark', 'webui'])
      const podMonitors = await kube.objects.list('monitoring.coreos.com/v1', 'PodMonitor', 'default', undefined, undefined, undefined, undefined, 'app=spark')
      expect(podMonitors.items.map((monitor) => monitor.metadata!.name).sort()).toEqual(['spark-driver', 'spark-master', 'spark-worker'])
    } finally {
      await app.stop()
    }
  })

  it('scale 3 then 1: the master reports exactly that many ALIVE workers', async () => {
    for (const count of [3, 1]) {
      const result = await run('scale', String(count), '--json')
      expect(result.exitCode, result.stderr).toBe(0)
      expectWorkers(await masterState(), count)
    }
  })

  it('a deleted worker pod is replaced and its worker registers within 60 s', async () => {
    const [before] = aliveWorkers(await masterState())
    // The pod that runs that worker (not one still terminating from the scale down).
    const { items } = await kube.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=spark,role=worker' })
    const pod = items.find((p) => p.status?.podIP === before.host && !p.metadata?.deletionTimestamp)
    expect(pod, `a live pod with IP ${before.host}`).toBeDefined()
    await kube.core.deleteNamespacedPod({ name: pod!.metadata!.name!, namespace: 'default' })
    const fresh = await pollUntil<WorkerState>('a re-registered worker', 60_000, async () => {
      const alive = aliveWorkers(await masterState())
      const replaced = alive.filter((worker) => worker.id !== before.id)
      return replaced.length === 1 && alive.length === 1 ? { done: replaced[0] } : { waiting: `${alive.length} alive` }
    })
    expect(fresh.cores).toBe(1)
  })

  describe('durable under faults', () => {
    const submit = (...args: string[]) => startCli(ground.env, 'submit', ...platform, ...args)
    const scaleTo = async (count: number) => expect((await run('scale', String(count))).exitCode).toBe(0)
    const sparkPods = async () => (await kube.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=spark' })).items

    it('master recovery: a deleted master pod is replaced by one that takes over its state from the claim: same workers, the application, which finishes with the right result', async () => {
      const claim = await kube.core.readNamespacedPersistentVolumeClaim({ name: 'spark-master-recovery', namespace: 'default' })
      expect(claim.status?.phase).toBe('Bound')
      await scaleTo(2)
      const workers = aliveWorkers(await masterState()).map((worker) => worker.id).sort()
      const app = submit(...durableArgs(12))
      await waitForOutput(app, /Starting task 2\.0 in stage 0/, 180_000)
      const [appId] = (await masterState()).activeapps.map((a) => a.id)
      expect(appId).toMatch(/^app-/)
      const [master] = (await kube.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=spark,role=master' })).items
      await kube.core.deleteNamespacedPod({ name: master.metadata!.name!, namespace: 'default' })
      const recovered = await pollUntil<MasterState>('the recovered master', 180_000, async () => {
        const pods = (await kube.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=spark,role=master' })).items
        if (pods.some((pod) => pod.metadata?.name === master.metadata?.name)) return { waiting: 'the old master pod is still there' }
        const state = (await masterState().catch(() => undefined))
        return state?.status === 'ALIVE' ? { done: state } : { waiting: `master ${state?.status ?? 'not answering'}` }
      })
      expect(aliveWorkers(recovered).map((worker) => worker.id).sort()).toEqual(workers)
      expect(recovered.activeapps.map((a) => a.id)).toContain(appId)
      expectDurableResult(await app.exit, app.output(), 12)
      // A driver pod's log is one stream: Spark's log lines arrive on stdout here.
      expect(app.output().stdout).toMatch(/Master has changed, new master is at/)
    })

    it('memory that adds up: executor heaps ≥ 80% full under Python UDFs, and no pod is OOM-killed or restarted', async () => {
      await scaleTo(2)
      const restartsBefore = new Map((await sparkPods()).map((pod) => [pod.metadata!.name!, pod.status?.containerStatuses?.[0]?.restartCount ?? 0]))
      const result = await run('submit', ...stressArgs)
      expect(result.exitCode, result.stderr.slice(-3000)).toBe(0)
      expectStressed(result.stdout, result.stderr)
      for (const pod of await sparkPods()) {
        for (const status of pod.status?.containerStatuses ?? []) {
          expect(status.lastState?.terminated?.reason, pod.metadata?.name).not.toBe('OOMKilled')
          expect(status.restartCount, pod.metadata?.name).toBe(restartsBefore.get(pod.metadata!.name!) ?? 0)
        }
      }
    })

    it('scale 3 → 1 in the middle of a job that shuffles: the removed pods decommission in their preStop, the job finishes with the right result, none of its executors lost', async () => {
      await scaleTo(3)
      const app = submit(...durableArgs(8))
      await waitForOutput(app, /Starting task 2\.0 in stage 0/, 180_000)
      expectDurableInStatus((await run('status', '--json')).json)
      const scaled = await run('scale', '1', '--json')
      expect(scaled.exitCode, scaled.stderr).toBe(0)
      expect(scaled.json).toMatchObject({ ok: true, aliveWorkers: 1 })
      expectDurableResult(await app.exit, app.output(), 8)
      expectDecommissioned(app.output())
      await pollUntil('the scaled-away pods to finish', 150_000, async () => {
        const workers = (await sparkPods()).filter((pod) => pod.metadata?.labels?.role === 'worker')
        return workers.length === 1 ? { done: true } : { waiting: `${workers.length} worker pods` }
      })
    })

    it("elastic workers 1..3: two notebooks' applications that each want more cores than a worker has both finish; the workers grow to 3 while both run and return to 1 after the idle time; no executor lost, no worker with executors removed; status shows the decisions", async () => {
      const since = Date.now()
      const up = await run('up', '--workers', '1..3', '--worker-idle', '15s')
      expect(up.exitCode, up.stderr).toBe(0)
      expect(up.stderr).toMatch(/elastic workers 1\.\.3 \(idle 15s\): .*deployment\/spark-autoscaler created/)
      await pollUntil('the controller running', 120_000, async () => {
        const pods = (await sparkPods()).filter((pod) => pod.metadata?.labels?.role === 'autoscaler')
        return pods.length === 1 && pods[0].status?.phase === 'Running' ? { done: true } : { waiting: pods.map((pod) => pod.status?.phase).join() }
      })
      // Two people's notebooks: each kernel is its own application (asking for two executors when it
      // starts, then one per task its job has waiting), and both drivers share the one JupyterLab pod,
      // so the node's 2 CPUs fit 3 workers (500m each) beside them (a driver pod each would not).
      const notebook = startCli({ ...ground.env, ...userPackages }, 'notebook', ...platform, '--port', '0', '--json')
      const kernels: Kernel[] = []
      /** The master's workers each second: a worker that leaves must have had no executor. */
      const samples: Array<{ at: number; alive: WorkerState[]; apps: number }> = []
      try {
        const { baseUrl, token } = parseLabUrl((JSON.parse(await notebook.firstLine) as { url: string }).url)
        kernels.push(...(await Promise.all([1, 2].map(() => startKernel(baseUrl, token, { timeoutMs: 600_000 })))))
        const partitions = [6, 12]
        let ended = false
        const results = Promise.all(kernels.map((kernel, i) => kernel.run(durableCell(partitions[i]), `running durable.py on ${partitions[i]} partitions`))).finally(() => (ended = true))
        results.catch(() => undefined)
        let mostAliveWhileBothRun = 0
        await pollUntil('both applications done and the workers back to 1', 600_000, async () => {
          const state = await masterState().catch(() => undefined)
          if (!state) return { waiting: 'the master UI is not answering' }
          const alive = aliveWorkers(state)
          samples.push({ at: Date.now(), alive, apps: state.activeapps.length })
          if (!ended && state.activeapps.length === 2) mostAliveWhileBothRun = Math.max(mostAliveWhileBothRun, alive.length)
          const workerPods = (await sparkPods()).filter((pod) => pod.metadata?.labels?.role === 'worker')
          return ended && alive.length === 1 && workerPods.length === 1 ? { done: true } : { waiting: `${alive.length} workers alive, ${workerPods.length} pods, ${state.activeapps.length} applications` }
        })
        const appIds: string[] = []
        for (const [i, result] of (await results).entries()) {
          expectDurableResult(result.status === 'ok' ? 0 : 1, { stdout: result.stdout, stderr: `${result.error ?? ''}\n${result.stderr}` }, partitions[i])
          appIds.push(/APP_ID (\S+)/.exec(result.stdout)![1])
        }
        expect(mostAliveWhileBothRun).toBe(3)
        // Each driver's own log, as `logs` finds it: it ran on the cluster and lost no executor.
        for (const [i, logs] of (await Promise.all(appIds.map((appId) => run('logs', appId)))).entries()) {
          expect(logs.exitCode, logs.stderr).toBe(0)
          expect(logs.stdout).toContain(`Connected to Spark cluster with app ID ${appIds[i]}`)
          expect(logs.stdout).not.toMatch(/Lost executor/)
        }
        for (const [i, sample] of samples.slice(1).entries()) {
          for (const left of samples[i].alive.filter((worker) => !sample.alive.some((w) => w.id === worker.id))) {
            expect(left.coresused, `worker ${left.host} left the master with executors`).toBe(0)
          }
        }
      } finally {
        await Promise.all(kernels.map((kernel) => kernel.close().catch(() => undefined)))
        await notebook.stop('SIGINT')
        expect((await run('down', '--role', 'notebook', '--delete-notebooks')).exitCode).toBe(0)
      }
      const events = (await kube.core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.kind=Deployment,involvedObject.name=spark-worker,source=spark-autoscaler' })).items
        .filter((event) => new Date(event.lastTimestamp ?? 0).getTime() >= since - 1_000)
      const said = (reason: string) => events.filter((event) => event.reason === reason).map((event) => event.message!)
      const added = said('WorkerAdded')
      for (const message of added) expect(message).toMatch(/^added worker [\d.]+ \([12] → [23] alive\): app-\S+ waited \d+ s for \d+ cores?$/)
      expect(added).toContainEqual(expect.stringMatching(/\(2 → 3 alive\)/))
      // Back to where it started: as many removed as added.
      const removed = said('WorkerRemoved')
      expect(removed).toHaveLength(added.length)
      for (const message of removed) {
        const [, host, seconds] = /^removed worker ([\d.]+) \(\d → \d\): no executor for (\d+) s$/.exec(message) ?? []
        expect(Number(seconds), message).toBeGreaterThanOrEqual(15)
        // The master never saw an executor on it from the moment it was chosen (its idle time before the event) on.
        const event = events.find((e) => e.message === message)!
        const chosen = new Date(event.lastTimestamp!).getTime() - Number(seconds) * 1000
        const seen = samples.filter((sample) => sample.at >= chosen).flatMap((sample) => sample.alive.filter((worker) => worker.host === host))
        expect(seen.length, message).toBeGreaterThan(0)
        expect(seen.map((worker) => worker.coresused), message).toEqual(seen.map(() => 0))
      }
      // status shows its newest decisions as they are.
      const status = await run('status')
      expect(status.exitCode, status.stderr).toBe(0)
      const newest = [...events].sort((a, b) => new Date(a.lastTimestamp!).getTime() - new Date(b.lastTimestamp!).getTime()).slice(-eventsShown)
      expect(newest.map((event) => event.reason)).toContain('WorkerRemoved')
      for (const event of newest) expect(`${status.stdout}${status.stderr}`).toContain(event.message)
      // A fixed size again: the controller goes.
      const fixed = await run('scale', '1')
      expect(fixed.exitCode, fixed.stderr).toBe(0)
      expect(`${fixed.stdout}${fixed.stderr}`).toMatch(/elastic range 1\.\.3 ended: fixed at 1 workers?/)
      expect((await kube.apps.listNamespacedDeployment({ namespace: 'default', labelSelector: 'app=spark,role=autoscaler' })).items).toEqual([])
    })

    it("cluster:down --role worker takes an elastic range's controller and its rights with the workers, leaves the master, and cluster:up brings the workers back", async () => {
      const up = await run('up', '--workers', '1..2')
      expect(up.exitCode, up.stderr).toBe(0)
      const down = await run('down', '--role', 'worker')
      expect(down.exitCode, down.stderr).toBe(0)
      expect(`${down.stdout}${down.stderr}`).toMatch(/deployment\/spark-worker.*deployment\/spark-autoscaler|deployment\/spark-autoscaler.*deployment\/spark-worker/)
      const roles = (await sparkPods()).map((pod) => pod.metadata?.labels?.role)
      expect(roles).toContain('master')
      expect(roles.filter((role) => role === 'worker' || role === 'autoscaler')).toEqual([])
      for (const [apiVersion, kind] of [['rbac.authorization.k8s.io/v1', 'Role'], ['rbac.authorization.k8s.io/v1', 'RoleBinding'], ['v1', 'ServiceAccount'], ['apps/v1', 'Deployment']]) {
        const { items } = await kube.objects.list(apiVersion, kind, 'default', undefined, undefined, undefined, undefined, 'app=spark,role=autoscaler')
        expect(items, kind).toEqual([])
      }
      const back = await run('up', '--workers', '1')
      expect(back.exitCode, back.stderr).toBe(0)
      expect(aliveWorkers(await masterState())).toHaveLength(1)
    })
  })

  it("connect from a machine whose python3 is another minor version (3.12, 3.13 against this cluster's 3.11) is refused in one line, and creates nothing", async () => {
    const cluster = hostPythonVersion()!
    for (const minor of ['3.12', '3.13'].filter((m) => m !== cluster)) await expectOtherPythonRefused(ground.env, platform, minor, cluster)
    expect((await kube.apps.listNamespacedDeployment({ namespace: 'default', labelSelector: 'app=spark,role=connect' })).items).toEqual([])
  })

  it('connect: the classic test.py and a UDF, a pandas_udf, mapInPandas and toPandas drive a Spark Connect server in the cluster from this machine through a port-forward; wrong or missing tokens are refused; Ctrl-C ends it with 0', async () => {
    const connect = startCli(ground.env, 'connect', ...platform, '--port', '0', '--json')
    let token = ''
    try {
      const info = JSON.parse(await connect.firstLine) as Record<string, any>
      expect(info).toMatchObject({ ok: true, command: 'connect', via: expect.stringMatching(/^port-forward to pod spark-connect-/) })
      expect(info.connectionString).toMatch(/^sc:\/\/localhost:\d+\/;token=[0-9a-f]{64}$/)
      token = info.connectionString.split('token=')[1]
      expect(Math.abs((await piThroughConnect(info.sparkVersion, info.connectionString)) - Math.PI)).toBeLessThan(0.01)
      expect(info.python).toBe(hostPythonVersion())
      await expectUdfsThroughConnect(info.sparkVersion, info.connectionString)
      await expectRefused(info.sparkVersion, `${info.url}/;token=wrong`)
      await expectRefused(info.sparkVersion, info.url)
    } finally {
      expect(await connect.stop('SIGINT'), connect.output().stderr).toBe(0)
    }
    // The token lives in the Secret only: not in the pod, its Deployment or the server's log.
    const [pod] = (await kube.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=spark,role=connect' })).items
    const deployment = await kube.apps.readNamespacedDeployment({ name: 'spark-connect', namespace: 'default' })
    const log = await kube.core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace: 'default' })
    for (const text of [JSON.stringify(pod), JSON.stringify(deployment), String(log)]) expect(text.includes(token)).toBe(false)
    expect(pod.spec?.containers[0].securityContext?.readOnlyRootFilesystem).toBe(true)
    const down = await run('down', '--role', 'connect')
    expect(down.exitCode, down.stderr).toBe(0)
    expect((await kube.apps.listNamespacedDeployment({ namespace: 'default', labelSelector: 'app=spark,role=connect' })).items).toEqual([])
    expect((await kube.apps.listNamespacedDeployment({ namespace: 'default', labelSelector: 'app=spark' })).items.map((d) => d.metadata?.name).sort()).toEqual(['spark-master', 'spark-worker'])
  })

  it('submit runs your PySpark file as a Job with its files from a ConfigMap: verbatim arguments, its exit code, nothing left; pandas, a --pip package and a --packages JDBC driver are there; over 1 MiB is refused untouched', async () => {
    const leftovers = async () => [
      ...(await kube.batch.listNamespacedJob({ namespace: 'default', labelSelector: 'app=spark' })).items,
      ...(await kube.core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'app=spark' })).items,
    ].map((o) => o.metadata?.name)
    expectWordcount(await run('submit', ...wordcountArgs))
    const failed = await run('submit', ...failingArgs)
    expectFailure(failed)
    failedAppId = failedAppOf(failed)
    expectUserCode(await run('submit', ...userCodeArgs))
    const big = join(mkdtempSync(join(tmpdir(), 'submit-')), 'big.bin')
    writeFileSync(big, Buffer.alloc(1024 * 1024))
    const refused = await run('submit', '--files', big, ...failingArgs)
    expect(refused.exitCode).toBe(2)
    expect(errorLines(refused.stderr)).toEqual([expect.stringMatching(/above the 1 MiB a Kubernetes ConfigMap holds/)])
    await pollUntil('no Job or ConfigMap of ours', 60_000, async () => {
      const left = await leftovers()
      return left.length === 0 ? { done: true } : { waiting: left.join(', ') }
    })
  })

  it("the failed submit's logs outlive its driver and workers: after the worker pods are replaced, logs prints its executor's traceback and its driver's log", async () => {
    const alive = aliveWorkers(await masterState())
    const { items } = await kube.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=spark,role=worker' })
    const live = items.filter((pod) => !pod.metadata?.deletionTimestamp)
    await Promise.all(live.map((pod) => kube.core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace: 'default' })))
    await pollUntil('new workers registered in place of the deleted pods', 120_000, async () => {
      const now = aliveWorkers(await masterState())
      const pods = (await kube.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=spark,role=worker' })).items
      const gone = !pods.some((pod) => live.some((old) => old.metadata?.uid === pod.metadata?.uid))
      return gone && now.length === alive.length && now.every((worker) => !alive.some((old) => old.id === worker.id)) ? { done: true } : { waiting: `${now.length} alive` }
    })
    await expectExecutorLogs((...args) => run('logs', ...args), failedAppId!)
  })

  it('shell attaches a pyspark REPL running in a pod: piped input is evaluated, the pod is removed', async () => {
    const result = await cliWithInput(ground.env, 'spark.range(10).count()\n', 'shell', ...platform)
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^(>>> )*10$/m)
    await pollUntil('the shell pod to be gone', 60_000, async () => {
      const { items } = await kube.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=spark,role=driver' })
      return items.length === 0 ? { done: true } : { waiting: `${items.length} pods` }
    })
  })

  it('a cluster that cannot fit is refused before anything is applied, with the numbers and both remedies', async () => {
    const result = await run('up', '--namespace', 'ssk8s-too-big', '--workers', '3', '--worker-cores', '2')
    expect(result.exitCode).toBe(1)
    expect(errorLines(result.stderr)).toEqual([
      expect.stringMatching(/^error: node ssk8s-node has no room for this cluster: it requests 3\.35 CPUs \/ 9344 MiB \(master 0\.1\/1024, 3 workers × 1\/2432, Pi driver 0\.25\/1024 \(CPUs\/MiB\)\), [\d.]+ CPUs \/ \d+ MiB is free$/),
    ])
    expect(result.stderr).toMatch(/ask for less: (at most \d worker|not even one worker)/)
    expect(result.stderr).toMatch(/or give it more room/)
    expect(result.stderr).not.toContain('Apply manifests/ (master, service, workers):')
    await expect(kube.core.readNamespace({ name: 'ssk8s-too-big' })).rejects.toMatchObject({ code: 404 })
  })

  it('refuses to take over an object of the same name that is not ours, changing nothing', async () => {
    const namespace = 'ssk8s-foreign'
    await kube.core.createNamespace({ body: { metadata: { name: namespace } } })
    try {
      const theirs = await kube.core.createNamespacedService({
        namespace,
        body: { metadata: { name: 'spark-master-service', labels: { app: 'spark' } }, spec: { selector: { app: 'theirs' }, ports: [{ name: 'http', port: 80 }] } },
      })
      const result = await run('up', '--namespace', namespace)
      expect(result.exitCode).toBe(1)
      expect(errorLines(result.stderr)).toEqual([
        `error: service/spark-master-service already exists in namespace ${namespace} without our app.kubernetes.io/managed-by=spark-standalone-k8s label: refusing to take it over`,
      ])
      const after = await kube.core.readNamespacedService({ name: 'spark-master-service', namespace })
      expect(after.metadata?.resourceVersion).toBe(theirs.metadata?.resourceVersion)
      expect((await kube.apps.listNamespacedDeployment({ namespace })).items).toEqual([])
    } finally {
      await kube.core.deleteNamespace({ name: namespace })
    }
  })

  describe('a second cluster in another namespace, run by a user bound to that namespace only', () => {
    let user: NamespaceUser
    let env: Record<string, string>
    let defaultVersions: Array<string | undefined>
    const runB = (command: string, ...args: string[]) => cli(env, command, ...platform, '--namespace', teamB, ...args)

    beforeAll(async () => {
      user = await makeNamespaceUser(kube, teamB)
      env = { ...ground.env, KUBECONFIG: user.kubeconfig, SPARK_K8S_CONTEXT: user.context }
      defaultVersions = await resourceVersions('default')
    })

    // The user's kubeconfig holds a token: leave no copy behind.
    afterAll(async () => {
      if (user) await rm(dirname(user.kubeconfig), { recursive: true, force: true })
    })

    it('the user really is bound to its namespace: a read elsewhere is refused with the server message in one line, and up elsewhere names every missing right', async () => {
      const result = await cli(env, 'status', ...platform, '--namespace', 'kube-system')
      expect(result.exitCode).toBe(1)
      expect(errorLines(result.stderr)).toEqual([
        `error: pods is forbidden: User "${user.user}" cannot list resource "pods" in API group "" in the namespace "kube-system" (Forbidden, HTTP 403); hint: the tool needs the built-in admin (or edit) role in its namespace: \`kubectl auth can-i --list -n <namespace>\` shows yours`,
      ])
      expect(result.stderr).not.toMatch(/HTTP-Code|Headers/)
      const denied = await cli(env, 'up', ...platform, '--namespace', 'default')
      expect(denied.exitCode).toBe(1)
      expect(denied.stderr).toContain('not allowed in namespace default: get deployments, create deployments, patch deployments, delete deployments, get services')
    })

    it('up --expose nodeport works with NodePorts the API server allocates, and the first cluster is untouched', async () => {
      const result = await runB('up', '--workers', '1', '--expose', 'nodeport', '--json')
      expect(result.exitCode, result.stderr).toBe(0)
      expect(result.json).toMatchObject({ ok: true, aliveWorkers: 1 })
      expect(result.stderr).toMatch(/Check the cluster has room for 1 workers \[SKIPPED: these credentials may not read nodes/)
      // A user who may not manage PodMonitors gets the cluster without them, and the reason.
      expect(result.stderr).toMatch(/Apply manifests\/monitoring\/ \(Prometheus PodMonitors\) \[SKIPPED: these credentials may not manage PodMonitors in namespace ssk8s-team-b; Prometheus finds the pods by their prometheus.io annotations\]/)
      const ports = /service\/spark-master-service created \(NodePorts 7077→(\d+), 8080→(\d+)\)/.exec(result.stderr)
      expect(ports, result.stderr).not.toBeNull()
      expect(ports!.slice(1).map(Number)).not.toContain(30000)
      expect(ports!.slice(1).map(Number)).not.toContain(30001)
      expectWorkers(await masterState(teamB), 1)
      expect(await resourceVersions('default')).toEqual(defaultVersions)
      expectWorkers(await masterState(), 1)
      // The pods passed PodSecurity "restricted", and carry no service account token.
      const { items } = await kube.core.listNamespacedPod({ namespace: teamB, labelSelector: 'app=spark' })
      expect(items.length).toBe(2)
      for (const pod of items) expect(pod.spec!.volumes ?? [], pod.metadata!.name).not.toContainEqual(expect.objectContaining({ name: expect.stringMatching(/^kube-api-access-/) }))
    })

    it('the namespace really enforces PodSecurity "restricted": a pod that is not refused at admission', async () => {
      const refused = await kube.core
        .createNamespacedPod({ namespace: teamB, body: { metadata: { name: 'not-restricted' }, spec: { containers: [{ name: 'c', image: 'spark:none' }] } } })
        .then(() => undefined, (error: unknown) => error)
      expect((refused as { code?: number }).code).toBe(403)
      expect(errorMessage(refused)).toMatch(/^pods "not-restricted" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false/)
    })

    it('status, pi, scale and ui work for the namespace-bound user', async () => {
      const status = await runB('status', '--json')
      expect(status.exitCode, status.stderr).toBe(0)
      expect(status.json!.master.aliveworkers).toBe(1)
      expect(status.json!.members.map((m: { role: string }) => m.role).sort()).toEqual(['master', 'worker'])
      const pi = await runB('pi', '--json')
      expect(pi.exitCode, pi.stderr).toBe(0)
      expect(Math.abs(pi.json!.pi - Math.PI)).toBeLessThan(0.01)
      const scale = await runB('scale', '2')
      expect(scale.exitCode, scale.stderr).toBe(0)
      expectWorkers(await masterState(teamB), 2)
      const ui = startCli(env, 'ui', ...platform, '--namespace', teamB, '--port', '0', '--json')
      try {
        expectWorkers(await fetchMasterState((JSON.parse(await ui.firstLine) as { url: string }).url), 2)
      } finally {
        expect(await ui.stop('SIGTERM'), ui.output().stderr).toBe(0)
      }
    })

    it('a pod that cannot be scheduled ends the rollout wait within 30 s with the scheduler message', async () => {
      const result = await runB('up', '--workers', '2', '--worker-cores', '8', '--json')
      expect(result.exitCode).toBe(1)
      expect(errorLines(result.stderr)).toEqual([expect.stringMatching(/^error: pod spark-worker-[\w-]+ cannot be scheduled: 0\/1 nodes are available: 1 Insufficient cpu/)])
      expect(result.stderr).toMatch(/Wait for the rollout \[FAILED: pod spark-worker-.* cannot be scheduled/)
      // The step's own time, as --json reports it: the 20 s grace and a poll, not the 600 s --timeout.
      const waited = result.json!.timingsSeconds['Wait for the rollout'] as number
      expect(waited).toBeGreaterThanOrEqual(20)
      expect(waited).toBeLessThan(30)
    })

    it('cluster:down of the second cluster leaves the first untouched', async () => {
      const result = await runB('down')
      expect(result.exitCode, result.stderr).toBe(0)
      const { items } = await kube.core.listNamespacedPod({ namespace: teamB, labelSelector: 'app=spark' })
      expect(items).toEqual([])
      expect(await resourceVersions('default')).toEqual(defaultVersions)
      expectWorkers(await masterState(), 1)
    })
  })

  it('--expose nodeport in the default namespace gives the classic 30000/30001, and the URL is offered once it answers', async () => {
    const result = await run('up', '--workers', '1', '--expose', 'nodeport', '--json')
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/service\/spark-master-service configured \(NodePorts 7077→30000, 8080→30001\)/)
    expect(result.json).toMatchObject({ uiUrl: `http://${ground.nodeIp}:30001` })
    expectWorkers(await fetchMasterState(result.json!.uiUrl), 1)
  })

  it("a pod whose volume cannot be mounted ends the rollout wait within 60 s with the kubelet's message, not at --timeout", async () => {
    const up = await run('up', '--workers', '1')
    expect(up.exitCode, up.stderr).toBe(0)
    // The master: its Recreate strategy leaves no old pod running for the master's report to end the wait early.
    const name = 'spark-master'
    const missing = '/nonexistent/ssk8s-e2e-missing-folder'
    // Someone's edit of the template (replace, as kubectl edit does): a folder of the node that is not there.
    const editTemplate = async (change: (spec: V1PodSpec) => void): Promise<void> => {
      const live = await kube.apps.readNamespacedDeployment({ name, namespace: 'default' })
      change(live.spec!.template.spec!)
      // The controller may write the status in between (409): read again, as kubectl edit would.
      await kube.apps.replaceNamespacedDeployment({ name, namespace: 'default', body: live }).catch((error: unknown) => ((error as { code?: number }).code === 409 ? editTemplate(change) : Promise.reject(error)))
    }
    await editTemplate((spec) => {
      spec.volumes = [...(spec.volumes ?? []), { name: 'missing', hostPath: { path: missing, type: 'Directory' } }]
      spec.containers[0].volumeMounts = [...(spec.containers[0].volumeMounts ?? []), { name: 'missing', mountPath: '/mnt/missing' }]
    })
    try {
      // The old master gone (its stop is not the wait's to time), its replacement waiting for the folder.
      await pollUntil('the old master pod to go', 120_000, async () => {
        const { items } = await kube.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=spark,role=master' })
        return items.some((pod) => pod.status?.phase === 'Running') ? { waiting: 'old master running' } : { done: true }
      })
      const started = Date.now()
      // The timeout a stuck wait would reach instead (the one before mountBlocker did).
      const result = await run('scale', '1', '--timeout', '120')
      const seconds = (Date.now() - started) / 1000
      expect(result.exitCode, result.stderr).toBe(1)
      expect(errorLines(result.stderr)).toEqual([expect.stringMatching(new RegExp(`^error: pod spark-master-[\\w-]+ cannot mount its volumes: MountVolume\\.SetUp failed for volume "missing" : .*${missing}`))])
      expect(result.stderr).toMatch(/`kubectl describe pod spark-master-[\w-]+ -n default` shows the kubelet's events/)
      // The 20 s grace and a poll, not the 120 s --timeout.
      expect(seconds).toBeGreaterThanOrEqual(20)
      expect(seconds).toBeLessThan(60)
    } finally {
      await editTemplate((spec) => {
        spec.volumes = spec.volumes?.filter((volume) => volume.name !== 'missing')
        spec.containers[0].volumeMounts = spec.containers[0].volumeMounts?.filter((mount) => mount.name !== 'missing')
      })
    }
    // The template as it was: the master comes back, takes over from its claim, and the worker registers again.
    const again = await run('scale', '1')
    expect(again.exitCode, again.stderr).toBe(0)
  })

  it('cluster:down leaves nothing of ours, and an unrelated app=spark Deployment survives it', async () => {
    // What only cluster:down removes (a one-side down keeps the claims): there before, so their absence after means something.
    const ours = { namespace: 'default', labelSelector: selectorOf(ourLabels(loadManifests())) }
    const claimsAndBudgets = async () => [
      ...(await kube.core.listNamespacedPersistentVolumeClaim(ours)).items.map((claim) => `pvc/${claim.metadata?.name}`),
      ...(await kube.objects.list('policy/v1', 'PodDisruptionBudget', ours.namespace, undefined, undefined, undefined, undefined, ours.labelSelector)).items.map((budget) => `pdb/${budget.metadata?.name}`),
    ].sort()
    expect(await claimsAndBudgets()).toEqual(['pdb/spark-worker', 'pvc/spark-events', 'pvc/spark-master-recovery'])
    const theirs = await kube.apps.createNamespacedDeployment({
      namespace: 'default',
      body: {
        metadata: { name: 'someone-elses-spark', labels: { app: 'spark' } },
        spec: { replicas: 0, selector: { matchLabels: { app: 'spark', owner: 'someone' } }, template: { metadata: { labels: { app: 'spark', owner: 'someone' } }, spec: { containers: [{ name: 'c', image: 'spark:none' }] } } },
      },
    })
    const result = await run('down', '--json')
    expect(result.exitCode, result.stderr).toBe(0)
    const survivor = await kube.apps.readNamespacedDeployment({ name: 'someone-elses-spark', namespace: 'default' })
    expect(survivor.metadata?.uid).toBe(theirs.metadata?.uid)
    await kube.apps.deleteNamespacedDeployment({ name: 'someone-elses-spark', namespace: 'default' })
    const selector = { namespace: 'default', labelSelector: 'app=spark' }
    expect((await kube.core.listNamespacedPod(selector)).items).toEqual([])
    expect((await kube.core.listNamespacedService(selector)).items).toEqual([])
    expect((await kube.apps.listNamespacedDeployment(selector)).items).toEqual([])
    expect((await kube.batch.listNamespacedJob(selector)).items).toEqual([])
    expect((await kube.core.listNamespacedSecret(selector)).items).toEqual([])
    expect((await kube.objects.list('networking.k8s.io/v1', 'NetworkPolicy', 'default', undefined, undefined, undefined, undefined, 'app=spark')).items).toEqual([])
    expect((await kube.objects.list('monitoring.coreos.com/v1', 'PodMonitor', 'default', undefined, undefined, undefined, undefined, 'app=spark')).items).toEqual([])
    for (const name of ['spark-master', 'spark-worker', 'spark-driver']) expect(result.stderr).toContain(`podmonitor/${name}`)
    expect(await claimsAndBudgets()).toEqual([])
  })

  it('two cluster:ups at once: one waits for the other, leaving one Secret, which every pod runs with', async () => {
    const [a, b] = await Promise.all([run('up', '--workers', '1'), run('up', '--workers', '1')])
    // From one machine, one waits for the other (from two, the Secret's plain create lets one through: unit-tested).
    expect([a.exitCode, b.exitCode], `${a.stderr}\n${b.stderr}`).toEqual([0, 0])
    expect([a.stderr, b.stderr].filter((stderr) => /waiting for another command \(pid \d+\) changing the cluster in namespace default/.test(stderr))).toHaveLength(1)
    const conf = Buffer.from((await kube.core.readNamespacedSecret({ name: 'spark-auth', namespace: 'default' })).data!['spark-defaults.conf'], 'base64').toString()
    const pods = (await kube.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=spark' })).items.filter((pod) => !pod.metadata?.deletionTimestamp)
    expect(pods).toHaveLength(2)
    for (const pod of pods) expect(pod.metadata?.annotations?.[authConfAnnotation]).toBe(authConfDigest(conf))
    expect((await run('down')).exitCode).toBe(0)
  })
})
