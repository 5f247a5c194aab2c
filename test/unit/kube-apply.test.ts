// Server-side apply in two passes, against a fake API that records what it was asked: a dry run of
// everything first, NodePorts that never collide, and a half-made cluster undone.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KubernetesObject, V1Service } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { applyToKubernetes, nodePortsFor } from '../../scripts/lib/kube/apply.ts'
import { StepError } from '../../scripts/lib/errors.ts'
import { connectKube, type Kube } from '../../scripts/lib/kube/kube.ts'
import { loadManifests, ourLabels, renderCluster } from '../../scripts/lib/manifests.ts'

const manifests = loadManifests()
const rendered = (namespace: string) => renderCluster(manifests, { image: 'spark:1', namespace, workers: 2, workerCores: 1, workerMemory: '1g' })
const objects = (namespace: string): KubernetesObject[] => {
  const { master, service, worker } = rendered(namespace)
  return [master, service, worker]
}
const nodePorts = (service: KubernetesObject) => (service as V1Service).spec!.ports!.map((port) => port.nodePort)

function apiError(code: number, message: string) {
  const body = JSON.stringify({ kind: 'Status', message, reason: code === 422 ? 'Invalid' : 'Forbidden', code })
  return Object.assign(new Error(`HTTP-Code: ${code}\nMessage: Unknown API Status Code!\nBody: ${JSON.stringify(body)}\nHeaders: {}`), { code, body })
}

/** A fake API: `live` objects by kind/name; `refuse` decides which calls fail. Records every call. */
function fakeKube(options: { live?: KubernetesObject[]; refuse?: (call: { dryRun: boolean; object: KubernetesObject }) => Error | undefined; namespaceExists?: boolean | 'forbidden'; createRefused?: Error } = {}) {
  const calls: string[] = []
  const live = new Map((options.live ?? []).map((o) => [`${o.kind}/${o.metadata!.name}`, o]))
  const kube = {
    k8s: { PatchStrategy: { ServerSideApply: 'application/apply-patch+yaml' } },
    core: {
      readNamespace: async ({ name }: { name: string }) => {
        if (options.namespaceExists === 'forbidden') throw apiError(403, `namespaces "${name}" is forbidden`)
        if (options.namespaceExists === false) throw Object.assign(apiError(404, 'not found'), { code: 404 })
        return {}
      },
      createNamespace: async ({ body }: { body: KubernetesObject }) => void calls.push(`create namespace/${body.metadata!.name} ${JSON.stringify(body.metadata!.labels)}`),
      deleteNamespace: async ({ name }: { name: string }) => void calls.push(`delete namespace/${name}`),
    },
    objects: {
      read: async (o: KubernetesObject) => {
        const found = live.get(`${o.kind}/${o.metadata!.name}`)
        if (!found) throw apiError(404, 'not found')
        return found
      },
      patch: async (o: KubernetesObject, _pretty: unknown, dryRun: string | undefined) => {
        calls.push(`${dryRun ? 'dry-run' : 'apply'} ${o.kind}/${o.metadata!.name}${o.kind === 'Service' ? ` ${nodePorts(o).join(',')}` : ''}`)
        const refused = options.refuse?.({ dryRun: Boolean(dryRun), object: o })
        if (refused) throw refused
        // The server allocates NodePorts the object leaves open.
        if (o.kind === 'Service') return { ...o, spec: { ...(o as V1Service).spec, ports: (o as V1Service).spec!.ports!.map((p, i) => ({ ...p, nodePort: p.nodePort ?? 31000 + i })) } }
        return o
      },
      create: async (o: KubernetesObject, _pretty: unknown, dryRun: string | undefined, manager: string | undefined) => {
        calls.push(`create ${o.kind}/${o.metadata!.name}${dryRun ? ' dry-run' : ''} by ${manager}`)
        if (options.createRefused) throw options.createRefused
        return o
      },
      delete: async (o: KubernetesObject) => void calls.push(`delete ${o.kind}/${o.metadata!.name}`),
    },
  }
  return { kube: kube as unknown as Kube, calls }
}

describe('nodePortsFor', () => {
  const service = rendered('default').service

  it('keeps the classic 30000/30001 for a new Service in the default namespace', () => {
    expect(nodePorts(nodePortsFor(service, undefined, 'default'))).toEqual([30000, 30001])
  })

  it('lets the API server allocate them for a new Service elsewhere', () => {
    expect(nodePorts(nodePortsFor(service, undefined, 'team-b'))).toEqual([undefined, undefined])
  })

  it('keeps what a live Service has, so a re-apply changes nothing', () => {
    const live = { ...service, spec: { ...service.spec, ports: service.spec!.ports!.map((p, i) => ({ ...p, nodePort: 32100 + i })) } }
    expect(nodePorts(nodePortsFor(service, live, 'team-b'))).toEqual([32100, 32101])
  })
})

describe('applyToKubernetes', () => {
  it('dry-runs every object before applying any, and reports the NodePorts', async () => {
    const { kube, calls } = fakeKube()
    const outcome = await applyToKubernetes(kube, objects('default'), 'default')
    expect(calls).toEqual([
      'dry-run Deployment/spark-master',
      'dry-run Service/spark-master-service 30000,30001',
      'dry-run Deployment/spark-worker',
      'apply Deployment/spark-master',
      'apply Service/spark-master-service 30000,30001',
      'apply Deployment/spark-worker',
    ])
    expect(outcome).toEqual({ done: 'deployment/spark-master created, service/spark-master-service created (NodePorts 7077→30000, 8080→30001), deployment/spark-worker created' })
  })

  it('falls back to allocated NodePorts when 30000/30001 are taken, before anything is created', async () => {
    const taken = apiError(422, 'Service "spark-master-service" is invalid: spec.ports[0].nodePort: Invalid value: 30000: provided port is already allocated')
    const { kube, calls } = fakeKube({ refuse: ({ object }) => (object.kind === 'Service' && nodePorts(object)[0] === 30000 ? taken : undefined) })
    const outcome = await applyToKubernetes(kube, objects('default'), 'default')
    expect(calls.filter((c) => c.includes('Service'))).toEqual(['dry-run Service/spark-master-service 30000,30001', 'dry-run Service/spark-master-service ,', 'apply Service/spark-master-service ,'])
    expect(outcome).toMatchObject({ done: expect.stringContaining('service/spark-master-service created (NodePorts 7077→31000, 8080→31001)') })
  })

  it('changes nothing when a dry run is refused, and removes a namespace it had just created', async () => {
    const forbidden = apiError(403, 'deployments.apps "spark-worker" is forbidden: exceeded quota')
    const { kube, calls } = fakeKube({ namespaceExists: false, refuse: ({ object }) => (object.metadata!.name === 'spark-worker' ? forbidden : undefined) })
    await expect(applyToKubernetes(kube, objects('team-b'), 'team-b')).rejects.toBe(forbidden)
    expect(calls.filter((c) => c.startsWith('apply'))).toEqual([])
    expect(calls[0]).toBe('create namespace/team-b {"pod-security.kubernetes.io/enforce":"restricted","pod-security.kubernetes.io/warn":"restricted"}')
    expect(calls.at(-1)).toBe('delete namespace/team-b')
  })

  it('deletes what it created when the real apply fails part way', async () => {
    const gone = apiError(403, 'admission webhook denied the request')
    const { kube, calls } = fakeKube({ refuse: ({ dryRun, object }) => (!dryRun && object.kind === 'Deployment' && object.metadata!.name === 'spark-worker' ? gone : undefined) })
    await expect(applyToKubernetes(kube, objects('default'), 'default')).rejects.toBe(gone)
    expect(calls.slice(-2)).toEqual(['delete Service/spark-master-service', 'delete Deployment/spark-master'])
  })

  it('leaves objects that already existed alone on failure, and needs no namespace read rights', async () => {
    const { master } = rendered('dev')
    const gone = apiError(500, 'etcd timeout')
    const { kube, calls } = fakeKube({ namespaceExists: 'forbidden', live: [master], refuse: ({ dryRun, object }) => (!dryRun && object.kind === 'Service' ? gone : undefined) })
    await expect(applyToKubernetes(kube, objects('dev'), 'dev')).rejects.toBe(gone)
    // The objects are applied at once: the worker this run created goes again; the master it found stays.
    expect(calls.filter((c) => c.startsWith('delete'))).toEqual(['delete Deployment/spark-worker'])
  })

  it('refuses to take over an object of the same name that lacks our managed-by label, changing nothing', async () => {
    const theirs = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'spark-master-service', namespace: 'default', labels: { app: 'spark' } } }
    const { kube, calls } = fakeKube({ live: [theirs] })
    const error = (await applyToKubernetes(kube, objects('default'), 'default').catch((e: unknown) => e)) as StepError
    expect(error).toBeInstanceOf(StepError)
    expect(error.message).toBe('service/spark-master-service already exists in namespace default without our app.kubernetes.io/managed-by=spark-standalone-k8s label: refusing to take it over')
    expect(calls.filter((c) => !c.startsWith('dry-run'))).toEqual([])
  })

  it('skips with the reason when the server says nothing would change', async () => {
    const live = objects('default')
    const { kube, calls } = fakeKube({ live })
    expect(await applyToKubernetes(kube, objects('default'), 'default')).toEqual({ skipped: 'deployment/spark-master, service/spark-master-service, deployment/spark-worker already as declared' })
    expect(calls.every((c) => c.startsWith('dry-run'))).toBe(true)
  })

  it("applies a Role whose rules changed (they are outside spec), and leaves one alone that matches", async () => {
    const role = manifests.autoscaler.role
    const older = { ...structuredClone(role), rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] }
    const changed = fakeKube({ live: [older] })
    expect(await applyToKubernetes(changed.kube, [structuredClone(role)], 'default')).toEqual({ done: 'role/spark-autoscaler configured' })
    const same = fakeKube({ live: [structuredClone(role)] })
    expect(await applyToKubernetes(same.kube, [structuredClone(role)], 'default')).toEqual({ skipped: 'role/spark-autoscaler already as declared' })
  })

  describe('createOnly (the cluster\'s Secret)', () => {
    const secret = (): KubernetesObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'spark-auth', namespace: 'default', labels: { 'app.kubernetes.io/managed-by': 'spark-standalone-k8s' } } })

    it('creates a missing one with a plain create (as our field manager) after the dry runs and before the rest is applied', async () => {
      const auth = secret()
      const { kube, calls } = fakeKube()
      const outcome = await applyToKubernetes(kube, [auth, ...objects('default')], 'default', [auth])
      expect(calls).toEqual([
        'dry-run Secret/spark-auth',
        'dry-run Deployment/spark-master',
        'dry-run Service/spark-master-service 30000,30001',
        'dry-run Deployment/spark-worker',
        'create Secret/spark-auth by spark-standalone-k8s',
        'apply Deployment/spark-master',
        'apply Service/spark-master-service 30000,30001',
        'apply Deployment/spark-worker',
      ])
      expect(outcome).toEqual({ done: 'secret/spark-auth created, deployment/spark-master created, service/spark-master-service created (NodePorts 7077→30000, 8080→30001), deployment/spark-worker created' })
    })

    it('stops with a StepError when another run created it meanwhile (409), applying nothing else', async () => {
      const auth = secret()
      const { kube, calls } = fakeKube({ createRefused: apiError(409, 'secrets "spark-auth" already exists') })
      const error = (await applyToKubernetes(kube, [auth, ...objects('default')], 'default', [auth]).catch((e: unknown) => e)) as StepError
      expect(error).toBeInstanceOf(StepError)
      expect(error.message).toBe('secret/spark-auth was created by another run in namespace default while this one ran: nothing else was changed')
      expect(error.details).toMatch(/run the command again: it keeps the Secret the other run made/)
      expect(calls.filter((c) => !c.startsWith('dry-run'))).toEqual(['create Secret/spark-auth by spark-standalone-k8s'])
    })

    it('passes any other create error on, and undoes nothing it did not make', async () => {
      const auth = secret()
      const refused = apiError(403, 'secrets is forbidden')
      const { kube, calls } = fakeKube({ createRefused: refused })
      await expect(applyToKubernetes(kube, [auth, ...objects('default')], 'default', [auth])).rejects.toBe(refused)
      expect(calls.filter((c) => !c.startsWith('dry-run'))).toEqual(['create Secret/spark-auth by spark-standalone-k8s'])
    })

    it('deletes the one it created when the rest fails to apply', async () => {
      const auth = secret()
      const gone = apiError(403, 'admission webhook denied the request')
      const { kube, calls } = fakeKube({ refuse: ({ dryRun, object }) => (!dryRun && object.kind === 'Service' ? gone : undefined) })
      await expect(applyToKubernetes(kube, [auth, ...objects('default')], 'default', [auth])).rejects.toBe(gone)
      expect(calls.filter((c) => c.startsWith('delete'))).toContain('delete Secret/spark-auth')
    })

    it('applies one that exists as any other object (server-side apply, no create)', async () => {
      const auth = secret()
      const live = { ...secret(), data: { 'spark-defaults.conf': 'b2xk' } }
      const { kube, calls } = fakeKube({ live: [live] })
      expect(await applyToKubernetes(kube, [auth], 'default', [auth])).toEqual({ done: 'secret/spark-auth configured' })
      expect(calls).toEqual(['dry-run Secret/spark-auth', 'apply Secret/spark-auth'])
    })
  })
})

describe('applyToKubernetes through client-node (a fake API server over HTTP)', () => {
  // What the API server receives, after client-node has serialized each object for its kind.
  const received: Array<{ method: string; url: string; body: string }> = []
  let server: Server
  let kubeconfig: string

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => (body += chunk.toString()))
      req.on('end', () => {
        received.push({ method: req.method!, url: req.url!, body })
        const reply = (status: number, json: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json))
        if (req.url === '/apis/networking.k8s.io/v1') {
          return reply(200, { kind: 'APIResourceList', groupVersion: 'networking.k8s.io/v1', resources: [{ name: 'networkpolicies', namespaced: true, kind: 'NetworkPolicy', verbs: ['get', 'patch', 'create'] }] })
        }
        if (req.method === 'GET' && req.url === '/api/v1/namespaces/default') return reply(200, { kind: 'Namespace', metadata: { name: 'default' } })
        if (req.method === 'GET') return reply(404, { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' })
        if (req.method === 'PATCH') return reply(200, JSON.parse(body))
        return reply(405, { kind: 'Status', code: 405, message: 'not here' })
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    kubeconfig = join(mkdtempSync(join(tmpdir(), 'ssk8s-kubeconfig-')), 'config')
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'fake', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'fake', user: { token: 'fake-token' } }],
        contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake' } }],
        'current-context': 'fake',
      }),
    )
  })
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    rmSync(join(kubeconfig, '..'), { recursive: true, force: true })
  })

  it("sends the master's NetworkPolicy with its `from` peers (a rule without them admits every source)", async () => {
    const kube = await connectKube('fake', kubeconfig)
    const { networkPolicy } = rendered('default')
    await applyToKubernetes(kube, [networkPolicy], 'default')
    const patches = received.filter((r) => r.method === 'PATCH')
    expect(patches.map((r) => r.url.split('?')[0])).toEqual(['/apis/networking.k8s.io/v1/namespaces/default/networkpolicies/spark-master', '/apis/networking.k8s.io/v1/namespaces/default/networkpolicies/spark-master'])
    for (const patch of patches) {
      expect(JSON.parse(patch.body).spec.ingress).toEqual([{ from: [{ podSelector: { matchLabels: ourLabels(manifests) } }], ports: [{ port: 'spark' }] }, { ports: [{ port: 'webui' }] }])
    }
  })
})
