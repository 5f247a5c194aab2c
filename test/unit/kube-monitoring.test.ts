// The PodMonitors go with the cluster only where the API server serves their kind, and a user who
// may not manage them gets a skip with the reason, not a failed cluster:up. A fake API server over
// HTTP, as the real client talks to it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { metricsConf } from '../../scripts/lib/cluster-secret.ts'
import { connectKube } from '../../scripts/lib/kube/kube.ts'
import { applyPodMonitors } from '../../scripts/lib/kube/monitoring.ts'
import { describeOutcome } from '../../scripts/lib/outcome.ts'
import { loadManifests, mainContainer, podTemplate, parseManifestFile } from '../../scripts/lib/manifests.ts'
import { manifestsDir } from '../../scripts/lib/paths.ts'
import { readdirSync } from 'node:fs'

const manifests = loadManifests()

describe('applyPodMonitors', () => {
  let server: Server
  let kubeconfig: string
  const received: Array<{ method: string; url: string; dryRun: boolean }> = []
  const api: { servesMonitoring: boolean; forbidden: boolean; foreign: boolean; refused?: { code: number; reason: string; message: string } } = { servesMonitoring: true, forbidden: false, foreign: false }
  beforeEach(() => {
    received.length = 0
    Object.assign(api, { servesMonitoring: true, forbidden: false, foreign: false, refused: undefined })
  })
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => (body += chunk.toString()))
      req.on('end', () => {
        received.push({ method: req.method!, url: req.url!.split('?')[0], dryRun: req.url!.includes('dryRun=All') })
        const reply = (status: number, json: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json))
        const status = (code: number, reason: string, message = `${reason} (fake)`) => reply(code, { kind: 'Status', status: 'Failure', reason, code, message })
        if (req.url === '/apis/monitoring.coreos.com/v1') {
          if (!api.servesMonitoring) return status(404, 'NotFound')
          return reply(200, { kind: 'APIResourceList', groupVersion: 'monitoring.coreos.com/v1', resources: [{ name: 'podmonitors', namespaced: true, kind: 'PodMonitor', verbs: ['get', 'patch', 'create', 'delete', 'list'] }] })
        }
        if (req.method === 'GET' && req.url === '/api/v1/namespaces/team-b') return reply(200, { kind: 'Namespace', metadata: { name: 'team-b' } })
        if (api.forbidden && req.url!.includes('/podmonitors')) return status(403, 'Forbidden')
        // Someone else's PodMonitor of the same name: no managed-by label of ours.
        if (api.foreign && req.method === 'GET' && req.url!.endsWith('/podmonitors/spark-driver')) return reply(200, { apiVersion: 'monitoring.coreos.com/v1', kind: 'PodMonitor', metadata: { name: 'spark-driver', namespace: 'team-b' } })
        if (api.refused && req.method === 'PATCH') return status(api.refused.code, api.refused.reason, api.refused.message)
        if (req.method === 'GET') return status(404, 'NotFound')
        if (req.method === 'PATCH') return reply(200, JSON.parse(body))
        return status(405, 'MethodNotAllowed')
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

  it('applies every PodMonitor where the cluster serves the kind, said in one line', async () => {
    const outcome = await applyPodMonitors(await connectKube('fake', kubeconfig), manifests.podMonitors, 'team-b')
    expect(outcome).toEqual({ done: 'podmonitor/spark-master created, podmonitor/spark-worker created, podmonitor/spark-driver created' })
    const applied = received.filter((r) => r.method === 'PATCH').map((r) => r.url)
    expect(new Set(applied)).toEqual(new Set(['spark-master', 'spark-worker', 'spark-driver'].map((name) => `/apis/monitoring.coreos.com/v1/namespaces/team-b/podmonitors/${name}`)))
  })

  it('skips with the reason, touching nothing, where the Prometheus Operator is not installed', async () => {
    api.servesMonitoring = false
    const outcome = await applyPodMonitors(await connectKube('fake', kubeconfig), manifests.podMonitors, 'team-b')
    expect(outcome).toEqual({ skipped: "the cluster serves no monitoring.coreos.com/v1 PodMonitor (the Prometheus Operator's CRDs are not installed); Prometheus finds the pods by their prometheus.io annotations" })
    expect(received.filter((r) => r.method !== 'GET')).toEqual([])
  })

  it('skips with the reason for a user who may not manage PodMonitors in the namespace', async () => {
    api.forbidden = true
    const outcome = await applyPodMonitors(await connectKube('fake', kubeconfig), manifests.podMonitors, 'team-b')
    expect(outcome).toEqual({ skipped: 'these credentials may not manage PodMonitors in namespace team-b; Prometheus finds the pods by their prometheus.io annotations' })
    expect(received.filter((r) => r.method === 'PATCH' && !r.url.includes('dryRun'))).toEqual([])
  })

  it("skips with the API server's reason, and what to do instead, whatever else refuses them: the cluster is up without them", async () => {
    const skipped = async () => describeOutcome(await applyPodMonitors(await connectKube('fake', kubeconfig), manifests.podMonitors, 'team-b'))
    const instead = 'Prometheus finds the pods by their prometheus.io annotations, or run cluster:up again once that is fixed'
    api.refused = { code: 422, reason: 'Invalid', message: 'admission webhook "podmonitors.example.com" denied the request: spec.podMetricsEndpoints[0]: a scrapeTimeout is required' }
    expect(await skipped()).toBe(`skipped: PodMonitors not applied: ${api.refused.message} (Invalid, HTTP 422); hint: the server refused the object as declared; ${instead}`)
    api.refused = { code: 409, reason: 'Conflict', message: 'Apply failed with 1 conflict: conflict with "helm" using monitoring.coreos.com/v1: .spec.selector' }
    expect(await skipped()).toBe(`skipped: PodMonitors not applied: ${api.refused.message} (Conflict, HTTP 409); hint: someone changed it at the same time: run the command again; ${instead}`)
    Object.assign(api, { refused: undefined, foreign: true })
    received.length = 0
    expect(await skipped()).toBe(`skipped: PodMonitors not applied: podmonitor/spark-driver already exists in namespace team-b without our app.kubernetes.io/managed-by=spark-standalone-k8s label: refusing to take it over; ${instead}`)
    // Refused in the dry run: none of them applied, someone else's left as it is.
    expect(received.filter((r) => r.method !== 'GET' && !r.dryRun)).toEqual([])
  })
})

describe('the scrape conventions in manifests/', () => {
  const servletPath = (instance: string) => metricsConf.find(([key]) => key === `spark.metrics.conf.${instance}.sink.prometheusServlet.path`)![1]
  const annotations = (workload: Parameters<typeof podTemplate>[0]) => podTemplate(workload).metadata?.annotations ?? {}
  const uiPort = (workload: Parameters<typeof podTemplate>[0], name: string) => String(mainContainer(workload).ports!.find((port) => port.name === name)!.containerPort)

  it("annotates each Spark process's pod with its UI port and the servlet path spark-defaults.conf sets", () => {
    const scrape = (port: string, path: string) => ({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': port, 'prometheus.io/path': `${path}/` })
    expect(annotations(manifests.master)).toMatchObject(scrape(uiPort(manifests.master, 'webui'), servletPath('master')))
    expect(annotations(manifests.worker)).toMatchObject(scrape(uiPort(manifests.worker, 'webui'), servletPath('*')))
    for (const driver of [manifests.piJob, manifests.connect.deployment, manifests.notebook.deployment]) {
      expect(annotations(driver)).toMatchObject(scrape(uiPort(driver, 'spark-ui'), servletPath('*')))
    }
  })

  it('lists every endpoint per role in the PodMonitors, and keeps them out of manifests/ itself', () => {
    const endpoints = Object.fromEntries(
      manifests.podMonitors.map((monitor) => {
        const spec = (monitor as unknown as { spec: { podMetricsEndpoints: Array<{ port: string; path: string }> } }).spec
        return [monitor.metadata!.name, spec.podMetricsEndpoints.map((endpoint) => `${endpoint.port} ${endpoint.path}`)]
      }),
    )
    expect(endpoints).toEqual({
      'spark-master': [`webui ${servletPath('master')}/`, `webui ${servletPath('applications')}/`],
      'spark-worker': [`webui ${servletPath('*')}/`],
      'spark-driver': [`spark-ui ${servletPath('*')}/`, 'spark-ui /metrics/executors/prometheus/'],
    })
    const topLevel = readdirSync(manifestsDir).filter((name) => /\.ya?ml$/.test(name)).flatMap((name) => parseManifestFile(join(manifestsDir, name)))
    expect(topLevel.filter((object) => object.apiVersion?.startsWith('monitoring.coreos.com'))).toEqual([])
  })
})
