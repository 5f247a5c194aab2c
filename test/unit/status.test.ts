// `status`'s applications, workers and drivers, from bodies recorded on a real cluster of our image
// (test/fixtures/status/: cluster:up --workers 1 on Docker, one durable.py submit running and a second
// one asking for spark.executor.memory=2g, spark.executor.cores=1, spark.cores.max=2 waiting;
// the environments keep only what the driver's REST API says under runtime and sparkProperties).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { stringify } from 'yaml'
import { parseConfig } from '../../scripts/lib/config.ts'
import { connectKube } from '../../scripts/lib/kube/kube.ts'
import { makeTarget } from '../../scripts/lib/target.ts'
import { appDemand, readDemand, type UiGet } from '../../scripts/lib/demand.ts'
import type { MasterState } from '../../scripts/lib/spark-ui.ts'
import { formatStatus, masterSide, type StatusReport } from '../../scripts/status.ts'
import { repoRoot } from '../../scripts/lib/paths.ts'
import { driverRoles, loadManifests } from '../../scripts/lib/manifests.ts'
import { useFakeEngine } from './fake-engine.ts'

// No docker CLI: the Docker runtime's members come from the engine's API (the fake engine below).
vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))

const recorded = (name: string) => readFileSync(join(repoRoot, 'test/fixtures/status', name), 'utf8')
const busy = JSON.parse(recorded('master-busy.json')) as MasterState
const after = JSON.parse(recorded('master-after.json')) as MasterState
const runningId = 'app-20261206071137-0000'
const waitingId = 'app-20261206071157-0001'
const environments: Record<string, string> = {
  [`/proxy/${runningId}/api/v1/applications/${runningId}/environment`]: recorded('environment-running.json'),
  [`/proxy/${waitingId}/api/v1/applications/${waitingId}/environment`]: recorded('environment-waiting.json'),
}

/**
 * The master UI's GET, answering the recorded paths; anything else is a 404 as Spark's would be. A
 * driver's REST API starts on its first call, which took over 5 s on a busy machine: a GET that
 * waits no longer than that gets no answer.
 */
function uiGet(bodies: Record<string, string>): UiGet & { asked: string[] } {
  const asked: string[] = []
  return Object.assign(async (path: string, timeoutMs = 5_000) => {
    asked.push(path)
    if (timeoutMs <= 5_000) throw new Error(`http://127.0.0.1:30001${path} did not answer within ${timeoutMs / 1000} s`)
    if (bodies[path] === undefined) throw new Error(`http://127.0.0.1:30001${path} answered HTTP 404`)
    return bodies[path]
  }, { asked })
}

const manifests = loadManifests()
const roles = driverRoles(manifests)
const members = [
  { name: 'spark-master', role: 'master', state: 'running', detail: 'Up 57 seconds', addresses: ['spark-master'] },
  { name: 'spark-submit-mxbi6fjf42c1', role: 'driver', state: 'running', detail: 'Up 48 seconds', addresses: ['spark-submit-mxbi6fjf42c1'] },
  { name: 'spark-submit-mxbi6uaga428', role: 'driver', state: 'running', detail: 'Up 29 seconds', addresses: ['spark-submit-mxbi6uaga428'] },
  { name: 'spark-connect', role: 'connect', state: 'running', detail: 'Up 2 minutes', addresses: ['spark-connect'] },
  { name: 'spark-worker-1', role: 'worker', state: 'running', detail: 'Up 57 seconds', addresses: ['spark-worker-1'] },
]

async function busyReport(): Promise<StatusReport> {
  const applications = await readDemand(busy, uiGet(environments))
  return { platform: 'docker', memberNoun: 'containers', ui: { url: 'http://127.0.0.1:30001' }, members, ...masterSide(busy, applications, members, roles) }
}

describe('demand: what each application has and still wants', () => {
  it('reads spark.executor.cores and spark.cores.max from each driver through the reverse proxy; a waiting one says why, with the numbers', async () => {
    const get = uiGet(environments)
    const [waiting, running] = await readDemand(busy, get)
    expect(waiting).toEqual({
      id: waitingId, name: 'durable', user: 'spark', state: 'WAITING', startTime: 1796541117703, durationMs: 13539,
      coresGranted: 0, memoryPerExecutorMiB: 2048, coresPerExecutor: 1, coresMax: 2, coresWanted: 2, driverHost: 'spark-submit-mxbi6uaga428',
      waiting: 'wants 1 core × 2048 MiB per executor; no worker has them (most free on a worker: 0 cores, 512 MiB)',
    })
    // No spark.cores.max and no spark.executor.cores: it takes whatever comes free, and is not waiting.
    expect(running).toMatchObject({ id: runningId, state: 'RUNNING', coresGranted: 1, memoryPerExecutorMiB: 512, coresPerExecutor: null, coresMax: null, coresWanted: null, driverHost: 'spark-submit-mxbi6fjf42c1' })
    expect(running.waiting).toBeUndefined()
    // Neither runs dynamic allocation: their metrics are not read.
    expect(get.asked.sort()).toEqual(Object.keys(environments).sort())
  })

  it('names what no worker has: memory alone when the cores are free', () => {
    const [app] = busy.activeapps
    const idle = busy.workers.map((w) => ({ ...w, coresused: 0, coresfree: 1, memoryused: 0, memoryfree: 1024 }))
    expect(appDemand(app, idle).waiting).toBe('wants 1 core × 2048 MiB per executor; no worker has them (most free on a worker: 1 core, 1024 MiB)')
    // A worker with the room: the master has simply not placed it yet.
    expect(appDemand(app, idle.map((w) => ({ ...w, memory: 4096, memoryfree: 4096 }))).waiting).toBeUndefined()
    expect(appDemand(app, idle.map((w) => ({ ...w, state: 'DEAD' }))).waiting).toBe('wants 1 core × 2048 MiB per executor; no worker is alive')
  })

  it('a driver that does not answer leaves what it wants unknown, and the master-side figures stand', async () => {
    const [waiting, running] = await readDemand(busy, uiGet({}))
    expect(running).toMatchObject({ id: runningId, coresGranted: 1, memoryPerExecutorMiB: 512, driverError: expect.stringMatching(/answered HTTP 404$/) })
    expect(running.coresWanted).toBeUndefined()
    // Without its driver's word a WAITING application is taken at one core per executor, Spark's least.
    expect(waiting.waiting).toBe('wants 1 core × 2048 MiB per executor; no worker has them (most free on a worker: 0 cores, 512 MiB)')
    const report = { platform: 'docker', memberNoun: 'containers', ui: { url: 'http://127.0.0.1:30001' }, members: [], ...masterSide(busy, [waiting, running], [], roles) }
    expect(formatStatus(report)).toContain(`1 core granted, still wants: not known (asking its driver: http://127.0.0.1:30001/proxy/${runningId}/api/v1/applications/${runningId}/environment answered HTTP 404); all free cores of a worker × 512 MiB per executor`)
  })

  it("gives each driver one deadline for both its reads (properties, then dynamic allocation's metrics), all drivers at once", async () => {
    // Drivers whose every answer takes 200 ms, within the timeout each read is given. On a clock the
    // test moves, so a loaded machine cannot make the first answer late.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const events: string[] = []
    const asked: number[] = []
    const slow: UiGet = (path, timeoutMs = 5_000) => {
      const [, appId, rest] = /^\/proxy\/([^/]+)(.*)$/.exec(path)!
      events.push(`ask ${appId} ${rest}`)
      asked.push(timeoutMs)
      const body = rest.endsWith('/environment') ? JSON.stringify({ sparkProperties: [['spark.dynamicAllocation.enabled', 'true']] }) : '{"gauges": {}}'
      return new Promise((resolve, reject) => {
        if (timeoutMs < 200) setTimeout(() => reject(new Error(`http://127.0.0.1:30001${path} did not answer within ${timeoutMs / 1000} s`)), timeoutMs)
        else setTimeout(() => (events.push(`answer ${appId}`), resolve(body)), 200)
      })
    }
    const reading = readDemand(busy, slow, 300).finally(() => vi.useRealTimers())
    await vi.advanceTimersByTimeAsync(300)
    const demands = await reading
    for (const demand of demands) expect(demand.driverError).toBe(`http://127.0.0.1:30001/proxy/${demand.id}/metrics/json/ did not answer within 0.1 s`)
    // The metrics read had what was left of the 300 ms, not 300 ms of its own.
    expect(asked).toEqual([300, 300, 100, 100])
    expect(events.slice(0, 2)).toEqual(busy.activeapps.map((app) => `ask ${app.id} /api/v1/applications/${app.id}/environment`))
  })

  it("under dynamic allocation, what it still wants is its target executors less those it has, from the driver's metrics", () => {
    const [app] = busy.activeapps
    const gauges = (target: number, all: number) => ({
      [`${app.id}.driver.ExecutorAllocationManager.executors.numberTargetExecutors`]: { value: target },
      [`${app.id}.driver.ExecutorAllocationManager.executors.numberAllExecutors`]: { value: all },
    })
    const properties = { 'spark.dynamicAllocation.enabled': 'true', 'spark.executor.cores': '1' }
    expect(appDemand(app, busy.workers, { properties, gauges: gauges(3, 1) })).toMatchObject({ executors: { current: 1, target: 3 }, coresWanted: 2 })
    // An idle Connect server (it starts with no executor) asks for nothing: WAITING, for no want of room.
    expect(appDemand(app, busy.workers, { properties, gauges: gauges(0, 0) })).toMatchObject({ coresWanted: 0, waiting: 'idle: dynamic allocation asks for no executor now' })
    // spark.cores.max caps what it may still take.
    expect(appDemand(app, busy.workers, { properties: { ...properties, 'spark.cores.max': '2' }, gauges: gauges(5, 0) }).coresWanted).toBe(2)
  })
})

describe('status: applications, workers and drivers', () => {
  it('lists each application with state, cores granted and wanted, memory per executor, duration and submitter; the waiting reason; workers used and free; drivers with their application', async () => {
    const text = formatStatus(await busyReport())
    expect(text).toContain(`  ${waitingId} durable WAITING by spark for 14 s: 0 cores granted, wants 2 more; 1 core × 2048 MiB per executor\n    waiting: wants 1 core × 2048 MiB per executor; no worker has them (most free on a worker: 0 cores, 512 MiB)`)
    expect(text).toContain(`  ${runningId} durable RUNNING by spark for 34 s: 1 core granted, takes every core that comes free (no spark.cores.max); all free cores of a worker × 512 MiB per executor`)
    expect(text).toMatch(/^ {2}worker-20261206071127-172\.18\.0\.3-33651 +ALIVE +cores 1 used, 0 free of 1; memory 512 MiB used, 512 MiB free of 1024$/m)
    expect(text).toMatch(new RegExp(`^ {2}spark-submit-mxbi6fjf42c1 +driver +running +${runningId}$`, 'm'))
    expect(text).toMatch(new RegExp(`^ {2}spark-submit-mxbi6uaga428 +driver +running +${waitingId}$`, 'm'))
    expect(text).toMatch(/^ {2}spark-connect +connect +running +\(no application now\)$/m)
  })

  it('takes for drivers the roles the drivers\' PodMonitor selects (manifests/monitoring/), whatever they are', () => {
    expect(roles).toEqual(['driver', 'connect', 'notebook'])
    // Were the History Server to run a driver, and its role added to that PodMonitor, status would follow.
    const withHistory = structuredClone(manifests.podMonitors)
    const selector = (withHistory.find((monitor) => monitor.metadata!.name === 'spark-driver') as unknown as { spec: { selector: { matchExpressions: Array<{ values: string[] }> } } }).spec.selector
    selector.matchExpressions[0].values.push('history')
    const history = { name: 'spark-history', role: 'history', state: 'running', detail: 'Up 1 minute', addresses: ['spark-history'] }
    const { drivers } = masterSide(busy, [], [...members, history], driverRoles({ ...manifests, podMonitors: withHistory }))
    expect(drivers!.map((d) => d.name)).toEqual(['spark-submit-mxbi6fjf42c1', 'spark-submit-mxbi6uaga428', 'spark-connect', 'spark-history'])
  })

  it('--json carries the same under stable names, and no secret', async () => {
    const json = JSON.parse(JSON.stringify(await busyReport()))
    expect(json.master).toEqual({ url: 'spark://172.18.0.2:7077', status: 'ALIVE', aliveworkers: 1 })
    expect(json.workers).toEqual([{ id: 'worker-20261206071127-172.18.0.3-33651', state: 'ALIVE', cores: 1, coresUsed: 1, coresFree: 0, memoryMiB: 1024, memoryUsedMiB: 512, memoryFreeMiB: 512 }])
    expect(json.applications.map((a: { id: string; state: string }) => [a.id, a.state])).toEqual([[waitingId, 'WAITING'], [runningId, 'RUNNING']])
    expect(json.applications[0]).toMatchObject({ coresGranted: 0, coresWanted: 2, memoryPerExecutorMiB: 2048, user: 'spark', durationMs: 13539, waiting: expect.stringContaining('no worker has them') })
    expect(json.drivers).toEqual([
      { name: 'spark-submit-mxbi6fjf42c1', role: 'driver', state: 'running', applications: [runningId] },
      { name: 'spark-submit-mxbi6uaga428', role: 'driver', state: 'running', applications: [waitingId] },
      { name: 'spark-connect', role: 'connect', state: 'running', applications: [] },
    ])
    expect(JSON.stringify(json)).not.toMatch(/redacted|secret|token/i)
  })

  it('leaves out the workers that are gone: the master keeps them a while as DEAD, with the cores they had in use', () => {
    const gone = { ...busy.workers[0], id: 'worker-20261206071000-172.18.0.4-40000', state: 'DEAD' }
    const { workers } = masterSide({ ...busy, workers: [gone, ...busy.workers] }, [], [], roles)
    expect(workers!.map((w) => w.id)).toEqual(['worker-20261206071127-172.18.0.3-33651'])
  })

  it('shows the applications that ended, newest first, briefly', () => {
    const report = { platform: 'docker', memberNoun: 'containers', ui: { url: 'http://127.0.0.1:30001' }, members: [], ...masterSide(after, [], [], roles) }
    expect(report.completedApplications).toEqual([{ id: runningId, name: 'durable', user: 'spark', state: 'FINISHED', startTime: 1796541097037, durationMs: 108446 }])
    const text = formatStatus(report)
    expect(text).toContain('  (none running or waiting)')
    expect(text).toContain(`recently ended:\n  ${runningId} durable FINISHED by spark after 1 min 48 s`)
  })
})

describe('status on Docker: the drivers the tool started', () => {
  const engine = useFakeEngine()

  it("links a driver to its application by its container's name or by its IP on the network (pi advertises the IP its host name resolves to)", async () => {
    const listed = (name: string, role: string, ip: string) => ({ Id: `id-${name}`, Names: [`/${name}`], State: 'running', Status: 'Up 9 seconds', Labels: { app: 'spark', role }, NetworkSettings: { Networks: { spark: { NetworkID: 'net1', IPAddress: ip } } } })
    engine.reset((request) => (request.url.startsWith('/containers/json?') ? { json: [listed('spark-master', 'master', '172.18.0.2'), listed('spark-pi-mxbi7a0b1c2d', 'driver', '172.18.0.5'), listed('spark-submit-mxbi6fjf42c1', 'driver', '172.18.0.6')] } : undefined))
    const members = await makeTarget(parseConfig('status', ['--platform', 'docker'], {}), 'docker').runtime.members()
    const [pi, submitted] = busy.activeapps
    const advertising = (app: (typeof busy.activeapps)[number], host: string) => appDemand(app, busy.workers, { properties: { 'spark.driver.host': host } })
    const { drivers } = masterSide(busy, [advertising(pi, '172.18.0.5'), advertising(submitted, 'spark-submit-mxbi6fjf42c1')], members, roles)
    expect(drivers).toEqual([
      { name: 'spark-pi-mxbi7a0b1c2d', role: 'driver', state: 'running', applications: [pi.id] },
      { name: 'spark-submit-mxbi6fjf42c1', role: 'driver', state: 'running', applications: [submitted.id] },
    ])
  })
})

describe("the master UI's GET on Kubernetes", () => {
  it("reaches a driver's REST API through the API server's Service proxy and then the master's reverse proxy, waiting as long as asked", async () => {
    const paths: string[] = []
    // An API server whose answer comes late, as a driver's first REST answer can (over 5 s on a busy machine).
    const server = createServer((request, response) => {
      paths.push(request.url!)
      setTimeout(() => response.end('{"sparkProperties": []}'), 300)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const kubeconfig = join(mkdtempSync(join(tmpdir(), 'ssk8s-status-')), 'config')
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
      writeFileSync(kubeconfig, stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'c', cluster: { server: url, 'insecure-skip-tls-verify': true } }], users: [{ name: 'u', user: { token: 't' } }], contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }], 'current-context': 'c' }))
      const target = makeTarget(parseConfig('status', ['--platform', 'kubernetes', '--namespace', 'team-a'], {}), 'kubernetes', undefined, () => connectKube('c', kubeconfig))
      const path = `/proxy/${runningId}/api/v1/applications/${runningId}/environment`
      // The wait it is asked for, both ways: shorter than the answer takes, and longer.
      await expect(target.runtime.masterUi().get(path, 100)).rejects.toThrow(/^no answer from 127\.0\.0\.1:\d+ within 0\.1 s$/)
      expect(await target.runtime.masterUi().get(path, 2_000)).toBe('{"sparkProperties": []}')
      expect(paths).toEqual(Array(2).fill(`/api/v1/namespaces/team-a/services/spark-master-service:spark-master-webui/proxy/proxy/${runningId}/api/v1/applications/${runningId}/environment`))
    } finally {
      server.close()
    }
  })
})
