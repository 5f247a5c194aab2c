// docker/spark-autoscaler's decision, run for real by this machine's python3 (`spark-autoscaler
// decide`: one tick, no network) on the master's recorded /json/ and drivers' answers.
import { spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { dockerDir, repoRoot } from '../../scripts/lib/paths.ts'
import { pollUntil } from '../../scripts/lib/poll.ts'
import { appDemand, type DriverSide } from '../../scripts/lib/demand.ts'
import type { AppState, MasterState, WorkerState } from '../../scripts/lib/spark-ui.ts'

const script = join(dockerDir, 'spark-autoscaler')
const recorded = (name: string) => JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'status', name), 'utf8'))
/** The master with one busy 1-core worker, a RUNNING application and a WAITING one (spark.cores.max 2, 1 core × 2 GiB executors). */
const busy = recorded('master-busy.json') as MasterState
const waitingId = 'app-20261206071157-0001'
const runningId = 'app-20261206071137-0000'
const waitingDriver = { properties: Object.fromEntries(recorded('environment-waiting.json').sparkProperties) }
const runningDriver = { properties: Object.fromEntries(recorded('environment-running.json').sparkProperties) }

interface Pod {
  name: string
  ip: string
  running: boolean
  ready: boolean
  terminating: boolean
  cost: number
}
interface Action {
  kind: 'scale' | 'annotate' | 'event'
  replicas?: number
  idle?: string[]
  pod?: string
  cost?: number
  reason?: string
  message?: string
  type?: string
}
interface Input {
  master: MasterState
  drivers?: Record<string, unknown>
  pods?: Pod[]
  replicas: number
  memory?: Record<string, unknown>
  config?: Partial<{ min: number; max: number; idleSeconds: number }>
  now?: number
}

const now = 1_796_541_200

/** A port that was free a moment ago: nothing listens there. */
async function closedPort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise((resolve) => probe.close(resolve))
  return port
}

/** One tick of the real program. */
function decide(input: Input): { actions: Action[]; memory: Record<string, unknown> } {
  const given = {
    observed: { master: input.master, drivers: input.drivers ?? {}, pods: input.pods ?? podsOf(input.master), replicas: input.replicas },
    memory: input.memory ?? {},
    config: { min: 1, max: 6, idleSeconds: 120, ...input.config },
    now: input.now ?? now,
  }
  const result = spawnSync('python3', [script, 'decide'], { input: JSON.stringify(given), encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`spark-autoscaler decide exited ${result.status}: ${result.stderr}`)
  return JSON.parse(result.stdout)
}

const scales = (actions: Action[]) => actions.filter((a) => a.kind === 'scale').map((a) => a.replicas)
const events = (actions: Action[]) => actions.filter((a) => a.kind === 'event').map((a) => `${a.type} ${a.reason}: ${a.message}`)

function worker(n: number, cores: number, coresused: number, memory = 2048, memoryused = coresused * 1024): WorkerState {
  const host = `10.244.0.${10 + n}`
  return { id: `worker-20261206100000-${host}-4000${n}`, host, cores, coresused, coresfree: cores - coresused, memory, memoryused, memoryfree: memory - memoryused, state: 'ALIVE' }
}

function master(workers: WorkerState[], activeapps: AppState[] = []): MasterState {
  const alive = workers.filter((w) => w.state === 'ALIVE')
  return { ...structuredClone(busy), workers, activeapps, completedapps: [], aliveworkers: alive.length, cores: alive.reduce((sum, w) => sum + w.cores, 0) }
}

function app(id: string, cores: number, state = 'RUNNING', memoryperexecutor = 1024): AppState {
  return { id, name: 'durable', user: 'spark', cores, memoryperexecutor, state, starttime: (now - 30) * 1000, duration: 30_000 }
}

/** The worker pods of these workers: running, ready, no deletion cost yet. */
function podsOf(state: MasterState, costs: Record<string, number> = {}): Pod[] {
  return state.workers.map((w, i) => ({ name: `spark-worker-${i}`, ip: w.host, running: true, ready: true, terminating: false, cost: costs[w.host] ?? 0 }))
}

/** A driver under dynamic allocation with `executorCores` per executor, having `current` executors and wanting `target`. */
function dynamicDriver(id: string, executorCores: number, current: number, target: number) {
  const gauge = (name: string, value: number) => [`${id}.driver.ExecutorAllocationManager.executors.${name}`, { value }]
  return {
    properties: { 'spark.dynamicAllocation.enabled': 'true', 'spark.executor.cores': String(executorCores) },
    gauges: Object.fromEntries([gauge('numberAllExecutors', current), gauge('numberTargetExecutors', target)]),
  }
}

/** The program's app_demand on each case, loaded as a module by python3. */
function pythonDemands(cases: Array<{ app: AppState; workers: WorkerState[]; side?: DriverSide }>): Array<Record<string, unknown>> {
  const load = `import importlib.machinery, importlib.util, json, sys
loader = importlib.machinery.SourceFileLoader('autoscaler', sys.argv[1])
module = importlib.util.module_from_spec(importlib.util.spec_from_loader('autoscaler', loader))
loader.exec_module(module)
print(json.dumps([module.app_demand(c['app'], c['workers'], c.get('side')) for c in json.load(sys.stdin)]))`
  const result = spawnSync('python3', ['-c', load, script], { input: JSON.stringify(cases), encoding: 'utf8' })
  if (result.status !== 0) throw new Error(result.stderr)
  return JSON.parse(result.stdout)
}

/** Runs `code` with the program loaded as `autoscaler` and `given` as `given`; its last stdout line is JSON, the lines before it the program's log. */
function withProgram(code: string, given: unknown): { result: any; log: string[] } {
  const load = `import importlib.machinery, importlib.util, json, sys
loader = importlib.machinery.SourceFileLoader('autoscaler', sys.argv[1])
autoscaler = importlib.util.module_from_spec(importlib.util.spec_from_loader('autoscaler', loader))
loader.exec_module(autoscaler)
given = json.load(sys.stdin)
`
  const run = spawnSync('python3', ['-c', load + code, script], { input: JSON.stringify(given), encoding: 'utf8' })
  if (run.status !== 0) throw new Error(run.stderr)
  const lines = run.stdout.trim().split('\n')
  return { result: JSON.parse(lines.at(-1)!), log: lines.slice(0, -1) }
}

/** A Kubernetes API that records each call and fails the ones given; act's last look answers `why`. */
const fakeKube = `calls = []
class Kube:
    namespace = 'spark-test'
    def apps(self, rest): return 'deployment' + rest
    def core(self, rest): return rest
    def call(self, method, path, body=None, content_type=None):
        calls.append(f'{method} {path}')
        if f'{method} {path}' in given.get('failing', []): raise RuntimeError(f'{method} {path} answered 403: forbidden')
        return {'spec': {'replicas': 1}} if path == 'deployment' else {'items': []}
`
const act = (actions: Action[], why: string | null, failing: string[] = []) =>
  withProgram(`${fakeKube}
autoscaler.act(Kube(), given['actions'], {'metadata': {'name': 'spark-worker', 'uid': 'u'}}, lambda ids: given['why'])
print(json.dumps(calls))`, { actions, why, failing })

describe('spark-autoscaler: talking to the cluster', () => {
  it('the master is read last: the decision sees its newest view of the workers\' cores, after the drivers and the pods', () => {
    const { result } = withProgram(`${fakeKube}
answers = iter([{'activeapps': []}, {'activeapps': [], 'workers': [], 'newest': True}])
def http_json(url, timeout):
    calls.append(url)
    return next(answers)
autoscaler.http_json = http_json
observed, _ = autoscaler.Observer('http://master:8080', Kube()).observe()
print(json.dumps({'calls': calls, 'master': observed['master']}))`, {})
    expect(result.calls.at(-1)).toBe('http://master:8080/json/')
    expect(result.calls.slice(0, -1)).toContain('GET pods?labelSelector=app=spark,role=worker')
    expect(result.master.newest).toBe(true)
  })

  it('an evicted (Failed) or Succeeded worker pod, listed until deleted, holds no replica: not among the worker pods', () => {
    const pod = (name: string, phase: string) => ({ metadata: { name }, status: { phase, podIP: '10.244.0.11', conditions: [{ type: 'Ready', status: 'True' }] } })
    const { result } = withProgram('print(json.dumps(autoscaler.worker_pods(given)))', [pod('spark-worker-a', 'Running'), pod('spark-worker-b', 'Failed'), pod('spark-worker-c', 'Succeeded')])
    expect(result.map((p: Pod) => p.name)).toEqual(['spark-worker-a'])
  })

  it('just before a scale-down goes out, a last look at the master: a chosen worker busy now calls it off, one line, no Event', () => {
    const down: Action[] = [{ kind: 'scale', replicas: 1, idle: ['worker-b'] }, { kind: 'event', reason: 'WorkerRemoved', message: 'removed worker', type: 'Normal' }]
    const off = act(down, 'now busy: 10.244.0.12')
    expect(off.result).toEqual([])
    expect(off.log).toHaveLength(1)
    expect(off.log[0]).toMatch(/scale-down to 1 called off, now busy: 10\.244\.0\.12$/)
    expect(act(down, null).result).toEqual(['PATCH deployment/scale', 'POST events'])
  })

  it('the last look: a chosen worker with cores used, or an application newly WAITING, is a reason; an idle one WAITING all along is not', () => {
    const decidedOn = master([worker(1, 1, 0), worker(2, 1, 0)], [app('app-idle', 0, 'WAITING')])
    const look = (seen: MasterState) => withProgram('print(json.dumps(autoscaler.called_off(given[0], given[1], given[2])))', [decidedOn, seen, [decidedOn.workers[1].id]]).result
    expect(look(decidedOn)).toBeNull()
    expect(look(master([worker(1, 1, 1), worker(2, 1, 0)], decidedOn.activeapps))).toBeNull()
    expect(look(master([worker(1, 1, 0), worker(2, 1, 1)], decidedOn.activeapps))).toBe('now busy: 10.244.0.12')
    expect(look(master(decidedOn.workers, [...decidedOn.activeapps, app('app-new', 0, 'WAITING')]))).toBe('now waiting: app-new')
  })

  it('an Event the API refuses is one line, and the tick goes on: the actions after it are taken', () => {
    const actions: Action[] = [{ kind: 'event', reason: 'WorkerAdded', message: 'added worker', type: 'Normal' }, { kind: 'annotate', pod: 'spark-worker-1', cost: 0 }]
    const { result, log } = act(actions, null, ['POST events'])
    expect(result).toEqual(['POST events', 'PATCH pods/spark-worker-1'])
    expect(log[0]).toMatch(/could not record the WorkerAdded Event: POST events answered 403: forbidden$/)
  })
})

describe('spark-autoscaler: what an application wants', () => {
  it('mirrors scripts/lib/demand.ts (what `status` says): executor size, cap, cores wanted and why it waits, on the same cases', () => {
    const [waitingApp, runningApp] = busy.activeapps
    const idleWorker = [worker(1, 2, 0)]
    const cases: Array<{ app: AppState; workers: WorkerState[]; side?: DriverSide }> = [
      { app: waitingApp, workers: busy.workers, side: waitingDriver },
      { app: runningApp, workers: busy.workers, side: runningDriver },
      { app: waitingApp, workers: busy.workers },
      { app: app('app-dyn', 1), workers: [worker(1, 1, 1)], side: dynamicDriver('app-dyn', 1, 1, 5) },
      { app: app('app-dyn', 1), workers: [worker(1, 2, 1)], side: dynamicDriver('app-dyn', 1, 1, 2) },
      { app: app('app-idle', 0, 'WAITING'), workers: idleWorker, side: dynamicDriver('app-idle', 1, 0, 0) },
      { app: app('app-lone', 0, 'WAITING'), workers: [] },
    ]
    const python = pythonDemands(cases)
    cases.forEach(({ app: one, workers, side }, i) => {
      const ts = appDemand(one, workers, side)
      expect(python[i], `case ${i}`).toMatchObject({
        coresPerExecutor: ts.coresPerExecutor,
        coresMax: ts.coresMax,
        memoryPerExecutorMiB: ts.memoryPerExecutorMiB,
        waiting: ts.waiting ?? null,
      })
      // demand.ts leaves both unset when the driver did not answer.
      expect('coresWanted' in python[i], `case ${i}`).toBe(ts.coresWanted !== undefined)
      if (ts.coresWanted !== undefined) expect(python[i].coresWanted, `case ${i}`).toBe(ts.coresWanted)
      expect(python[i].executors ?? undefined, `case ${i}`).toEqual(ts.executors)
    })
    expect(python.map((d) => d.waiting)).toContain('idle: dynamic allocation asks for no executor now')
    expect(python.map((d) => d.coresWanted)).toContain(4)
  })
})

describe('spark-autoscaler: adding workers', () => {
  it('an application the master has WAITING, wanting 2 cores (spark.cores.max) of 1-core workers: two workers added in the same tick', () => {
    const state = structuredClone(busy)
    // The recorded app asks 2 GiB executors of 1 GiB workers; here, executors that fit one.
    state.activeapps[0].memoryperexecutor = 512
    const { actions, memory } = decide({ master: state, drivers: { [waitingId]: waitingDriver, [runningId]: runningDriver }, replicas: 1 })
    expect(scales(actions)).toEqual([3])
    expect(events(actions)).toEqual([])
    // It has waited since the master took it (its starttime), not since this controller saw it.
    expect(memory.added).toEqual([
      { app: waitingId, cores: 2, since: state.activeapps[0].starttime / 1000 },
      { app: waitingId, cores: 2, since: state.activeapps[0].starttime / 1000 },
    ])
  })

  it('a WAITING application whose driver did not answer is served by the master\'s word: one executor, one worker', () => {
    const state = structuredClone(busy)
    state.activeapps[0].memoryperexecutor = 512
    expect(scales(decide({ master: state, drivers: { [waitingId]: null }, replicas: 1 }).actions)).toEqual([2])
  })

  it('a dynamic-allocation driver asking 4 executors of 1 core beyond its 1: the free core takes one, ceil(3 / 2) = 2 workers of 2 cores come', () => {
    const state = master([worker(1, 2, 1)], [app('app-dyn', 1)])
    const { actions } = decide({ master: state, drivers: { 'app-dyn': dynamicDriver('app-dyn', 1, 1, 5) }, replicas: 1 })
    expect(scales(actions)).toEqual([3])
  })

  it('an executor the master granted but whose JVM has not yet registered with the driver is not asked for twice', () => {
    // The driver counts 1 executor, the master has granted 2 cores (2 executors): one more wanted, the free core takes it.
    const state = master([worker(1, 2, 1), worker(2, 2, 2)], [app('app-dyn', 2)])
    expect(decide({ master: state, drivers: { 'app-dyn': dynamicDriver('app-dyn', 1, 1, 3) }, replicas: 2 }).actions).toEqual([])
  })

  it('at most SPARK_WORKERS_MAX: 4 wanted beyond a full worker, max 3 → 2 added; at max, none', () => {
    const state = master([worker(1, 1, 1)], [app('app-dyn', 1)])
    const drivers = { 'app-dyn': dynamicDriver('app-dyn', 1, 1, 5) }
    expect(scales(decide({ master: state, drivers, replicas: 1, config: { max: 3 } }).actions)).toEqual([3])
    expect(decide({ master: state, drivers, replicas: 3, pods: [], config: { max: 3 } }).actions).toEqual([])
  })

  it('workers asked for but not yet ALIVE (pods starting) count as coming: only what they cannot hold is added', () => {
    const state = master([worker(1, 1, 1)], [app('app-dyn', 1)])
    const drivers = { 'app-dyn': dynamicDriver('app-dyn', 1, 1, 4) }
    // 3 more executors of 1 core: 2 pods already on their way, so 1 more.
    expect(scales(decide({ master: state, drivers, replicas: 3 }).actions)).toEqual([4])
    expect(decide({ master: state, drivers, replicas: 4 }).actions).toEqual([])
  })

  it('an idle dynamic-allocation driver (target 0, WAITING for ever) that misses a tick adds no worker: its last gauges count', () => {
    // Its one worker full with another application's executor: a WAITING that counted would add one.
    const state = master([worker(1, 1, 1)], [app('app-idle', 0, 'WAITING')])
    const seen = decide({ master: state, drivers: { 'app-idle': dynamicDriver('app-idle', 1, 0, 0) }, replicas: 1 })
    expect(seen.actions).toEqual([])
    const missed = decide({ master: state, drivers: { 'app-idle': null }, replicas: 1, memory: seen.memory, now: now + 5 })
    expect(missed.actions).toEqual([])
    // Its gauges missing from the answer (a timeout on /metrics/json/): the same.
    const noGauges = { properties: dynamicDriver('app-idle', 1, 0, 0).properties }
    expect(decide({ master: state, drivers: { 'app-idle': noGauges }, replicas: 1, memory: missed.memory, now: now + 10 }).actions).toEqual([])
  })

  it('a dynamic-allocation driver just started (no ExecutorAllocationManager gauges yet) wants nothing until it counts', () => {
    const state = master([worker(1, 1, 1)], [app('app-new', 0, 'WAITING')])
    const starting = { properties: dynamicDriver('app-new', 1, 0, 0).properties, gauges: {} }
    expect(decide({ master: state, drivers: { 'app-new': starting }, replicas: 1 }).actions).toEqual([])
  })

  it('an executor bigger than a worker: one CannotServe Warning per application, saying why, and no worker added', () => {
    // The recorded WAITING app: 1 core × 2048 MiB executors, 1 core / 1024 MiB workers.
    const first = decide({ master: busy, drivers: { [waitingId]: waitingDriver, [runningId]: runningDriver }, replicas: 1 })
    expect(scales(first.actions)).toEqual([])
    expect(events(first.actions)).toEqual([`Warning CannotServe: ${waitingId} wants 1 core × 2048 MiB per executor; a worker has 1 core, 1024 MiB: adding workers cannot help`])
    const second = decide({ master: busy, drivers: { [waitingId]: waitingDriver, [runningId]: runningDriver }, replicas: 1, memory: first.memory, now: now + 5 })
    expect(second.actions).toEqual([])
  })

  it('WorkerAdded once the master has the new worker ALIVE, with how long the application waited and for how many cores', () => {
    const before = master([worker(1, 1, 1)], [app('app-dyn', 1)])
    const drivers = { 'app-dyn': dynamicDriver('app-dyn', 1, 1, 2) }
    const first = decide({ master: before, drivers, replicas: 1, memory: { alive: [before.workers[0].id] } })
    expect(scales(first.actions)).toEqual([2])
    // The pod starts; its worker registers 12 s later.
    const pending = decide({ master: before, drivers, replicas: 2, memory: first.memory, now: now + 5 })
    expect(pending.actions).toEqual([])
    const after = master([worker(1, 1, 1), worker(2, 1, 0)], [app('app-dyn', 1)])
    const added = decide({ master: after, drivers, replicas: 2, memory: pending.memory, now: now + 12 })
    expect(events(added.actions)).toEqual(['Normal WorkerAdded: added worker 10.244.0.12 (1 → 2 alive): app-dyn waited 12 s for 1 core'])
    expect(scales(added.actions)).toEqual([])
    expect(decide({ master: after, drivers, replicas: 2, memory: added.memory, now: now + 17 }).actions).toEqual([])
  })
})

describe('spark-autoscaler: removing workers', () => {
  // One busy worker (10.244.0.11) and two idle ones; the controller has seen them idle since `now`.
  const state = master([worker(1, 1, 1), worker(2, 1, 0), worker(3, 1, 0)], [app('app-a', 1)])
  const first = decide({ master: state, drivers: { 'app-a': runningDriver }, replicas: 3, config: { min: 1, idleSeconds: 120 } })
  const later = (seconds: number, pods = podsOf(state), config = { min: 1, idleSeconds: 120 }) =>
    decide({ master: state, drivers: { 'app-a': runningDriver }, replicas: 3, pods, memory: first.memory, config, now: now + seconds })
  const marked = podsOf(state, { '10.244.0.12': -1000, '10.244.0.13': -1000 })
  const unmarked = [
    { kind: 'annotate', pod: 'spark-worker-1', cost: 0 },
    { kind: 'annotate', pod: 'spark-worker-2', cost: 0 },
  ]

  it('idle for less than SPARK_WORKER_IDLE_SECONDS: nothing', () => {
    expect(first.actions).toEqual([])
    expect(later(119).actions).toEqual([])
    // Marked by an earlier choice but not chosen now: back to no cost.
    expect(later(119, marked).actions).toEqual(unmarked)
  })

  it('idle long enough: first the lowest deletion cost on the idle workers chosen, none on the busy one; the count drops on the next tick', () => {
    expect(later(120).actions).toEqual([
      { kind: 'annotate', pod: 'spark-worker-1', cost: -1000 },
      { kind: 'annotate', pod: 'spark-worker-2', cost: -1000 },
    ])
  })

  it('with the costs in place: down to MIN, only idle workers named, each WorkerRemoved with its idle time; the busy one stays', () => {
    const { actions } = later(125, marked)
    expect(scales(actions)).toEqual([1])
    expect(events(actions)).toEqual([
      'Normal WorkerRemoved: removed worker 10.244.0.12 (3 → 2): no executor for 125 s',
      'Normal WorkerRemoved: removed worker 10.244.0.13 (2 → 1): no executor for 125 s',
    ])
    expect(actions.filter((a) => a.kind === 'annotate')).toEqual([])
  })

  it('never below MIN: with MIN 2, only the longest idle of the two goes', () => {
    const state4 = master([worker(1, 1, 1), worker(2, 1, 0), worker(3, 1, 0)], [app('app-a', 1)])
    // Both idle for longer than 120 s, the third for longest.
    const early = decide({ master: state4, replicas: 3, memory: { idleSince: { [state4.workers[1].id]: now - 200, [state4.workers[2].id]: now - 300 } }, config: { min: 2 } })
    expect(early.actions).toEqual([{ kind: 'annotate', pod: 'spark-worker-2', cost: -1000 }])
    const pods = podsOf(state4, { '10.244.0.13': -1000 })
    const { actions } = decide({ master: state4, replicas: 3, pods, memory: early.memory, config: { min: 2 }, now: now + 5 })
    expect(scales(actions)).toEqual([2])
    expect(events(actions)).toEqual(['Normal WorkerRemoved: removed worker 10.244.0.13 (3 → 2): no executor for 305 s'])
  })

  it('a busy worker is never chosen, however long the others idle: every worker busy, nothing goes', () => {
    const allBusy = master([worker(1, 1, 1), worker(2, 1, 1)], [app('app-a', 2)])
    const tick = decide({ master: allBusy, replicas: 2, memory: { idleSince: {} } })
    expect(decide({ master: allBusy, replicas: 2, memory: tick.memory, now: now + 3600 }).actions).toEqual([])
  })

  it('no removal while an application wants more cores, or while a worker pod is not yet a registered, ready worker; the chosen pods lose their low cost', () => {
    const drivers = { 'app-a': dynamicDriver('app-a', 1, 1, 2) }
    const wanting = decide({ master: state, drivers, replicas: 3, pods: marked, memory: first.memory, now: now + 600 })
    // Left at -1000, they would be the first a later `npm run scale` removes, busy by then or not.
    expect(wanting.actions).toEqual(unmarked)
    const unready = marked.map((pod, i) => (i === 1 ? { ...pod, ready: false } : pod))
    expect(later(600, unready).actions).toEqual(unmarked)
    const starting = [...marked, { name: 'spark-worker-3', ip: '10.244.0.14', running: false, ready: false, terminating: false, cost: 0 }]
    expect(decide({ master: state, replicas: 4, pods: starting, memory: first.memory, now: now + 600 }).actions).toEqual(unmarked)
  })

  it('the busy worker\'s cost does not follow its executors: with the chosen pods marked, the count drops whatever the busy one runs', () => {
    const busier = master([worker(1, 4, 3), worker(2, 1, 0), worker(3, 1, 0)], [app('app-a', 3)])
    const { actions } = decide({ master: busier, drivers: { 'app-a': runningDriver }, replicas: 3, pods: podsOf(busier, { '10.244.0.12': -1000, '10.244.0.13': -1000 }), memory: first.memory, now: now + 125 })
    expect(scales(actions)).toEqual([1])
    expect(actions.filter((a) => a.kind === 'annotate')).toEqual([])
  })

  it('the scale-down names the workers it removes, for the last look at the master before it goes out', () => {
    const scale = later(125, marked).actions.find((a) => a.kind === 'scale')!
    expect(scale.idle).toEqual([state.workers[1].id, state.workers[2].id])
  })

  it('a worker pod that never becomes an ALIVE worker (Pending, no room on the nodes) does not hold the scale-down for ever', () => {
    const two = master([worker(1, 1, 1), worker(2, 1, 0)], [app('app-a', 1)])
    const pending = [...podsOf(two), { name: 'spark-worker-9', ip: '', running: false, ready: false, terminating: false, cost: 0 }]
    const tick = decide({ master: two, drivers: { 'app-a': runningDriver }, replicas: 3, pods: pending, memory: first.memory })
    expect(tick.actions).toEqual([])
    expect(decide({ master: two, drivers: { 'app-a': runningDriver }, replicas: 3, pods: pending, memory: tick.memory, now: now + 119 }).actions).toEqual([])
    const { actions } = decide({ master: two, drivers: { 'app-a': runningDriver }, replicas: 3, pods: pending, memory: tick.memory, now: now + 120 })
    expect(scales(actions)).toEqual([2])
    expect(events(actions)).toEqual(['Normal WorkerRemoved: removed 1 worker not ALIVE at the master for 120 s (3 → 2): spark-worker-9'])
    // Never below MIN.
    expect(decide({ master: two, drivers: { 'app-a': runningDriver }, replicas: 3, pods: pending, memory: tick.memory, config: { min: 3 }, now: now + 120 }).actions).toEqual([])
  })

  it('an IPv6 worker ([fd00:0:0:0:0:0:0:c] at the master, fd00::c for Kubernetes) is matched to its pod', () => {
    const v6 = (n: number, coresused: number) => ({ ...worker(n, 1, coresused), host: `[fd00:0:0:0:0:0:0:${n.toString(16)}]` })
    const state6 = master([v6(11, 1), v6(12, 0)], [app('app-a', 1)])
    const pods = state6.workers.map((_, i) => ({ name: `spark-worker-${i}`, ip: `fd00::${(11 + i).toString(16)}`, running: true, ready: true, terminating: false, cost: 0 }))
    const tick = decide({ master: state6, replicas: 2, pods })
    expect(decide({ master: state6, replicas: 2, pods, memory: tick.memory, now: now + 120 }).actions).toEqual([{ kind: 'annotate', pod: 'spark-worker-1', cost: -1000 }])
  })

  it('replicas below MIN (kubectl scale --replicas=0) are scaled back to MIN first', () => {
    expect(scales(decide({ master: master([]), replicas: 0, pods: [], config: { min: 2 } }).actions)).toEqual([2])
  })
})

describe('spark-autoscaler: the loop', () => {
  it('a master that does not answer is one line per tick, retried, never a crash', async () => {
    const child = spawn('python3', [script], { env: { PATH: process.env.PATH, POD_NAMESPACE: 'spark-test', SPARK_MASTER_UI: `http://127.0.0.1:${await closedPort()}` } })
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk))
    try {
      await pollUntil('two ticks', 15_000, async () => (stdout.split('\n').filter((line) => line.includes('this tick failed')).length >= 2 ? { done: true } : { waiting: stdout }))
      expect(child.exitCode).toBeNull()
      const failed = stdout.split('\n').filter((line) => line.includes('this tick failed'))
      expect(failed[0]).toMatch(/^\S+Z this tick failed, retrying in 2 s: .*Connection refused/)
    } finally {
      child.kill()
    }
  })

  it.each([
    ['SPARK_WORKERS_MIN', { SPARK_WORKERS_MIN: 'one' }, /SPARK_WORKERS_MIN must be a whole number, got 'one'/],
    ['a range upside down', { SPARK_WORKERS_MIN: '4', SPARK_WORKERS_MAX: '2' }, /must be 1 ≤ MIN ≤ MAX, got 4\.\.2/],
    ['no namespace', { POD_NAMESPACE: '' }, /POD_NAMESPACE must name the namespace/],
  ])('bad settings (%s) stop it at once with one line naming the variable', (_what, env, message) => {
    const result = spawnSync('python3', [script], { env: { PATH: process.env.PATH, POD_NAMESPACE: 'spark-test', ...env }, encoding: 'utf8', timeout: 10_000 })
    expect(result.status).toBe(1)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(message)
  })
})
