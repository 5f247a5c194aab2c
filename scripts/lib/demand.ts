// What each application the master knows has and still wants, and why one waits: the master's /json/
// tells what it was granted and its memory per executor; its own driver (reached through the
// master's reverse proxy) tells the rest: spark.executor.cores, spark.cores.max and, under dynamic
// allocation, how many executors it wants now. `status` shows it; the elastic workers' controller
// (docker/spark-autoscaler, Python in the image) applies the same rules, held equal by
// test/unit/autoscaler.test.ts: change both.
import { errorMessage } from './errors.ts'
import type { AppState, MasterState, WorkerState } from './spark-ui.ts'
import { aliveWorkers } from './spark-ui.ts'

/** What one active application has and wants. */
export interface AppDemand {
  id: string
  name: string
  user: string
  /** The master's word: WAITING (no executor yet), RUNNING… */
  state: string
  /** Epoch milliseconds. */
  startTime: number
  durationMs: number
  coresGranted: number
  memoryPerExecutorMiB: number
  /** spark.executor.cores; null: unset, so each worker gives it one executor with every core it has free. */
  coresPerExecutor: number | null
  /** spark.cores.max; null: unset, so it takes every core that comes free. */
  coresMax: number | null
  /** Dynamic allocation's executors: how many it has and how many it asks for now. */
  executors?: { current: number; target: number }
  /** More cores it would take now: null when nothing caps it; undefined when its driver did not say. */
  coresWanted?: number | null
  /** The address its driver advertises (spark.driver.host). */
  driverHost?: string
  /** Why it has no executor, or fewer cores than it wants, with the numbers. */
  waiting?: string
  /** Why its driver could not be asked (it has just started or is ending). */
  driverError?: string
}

/** What the driver itself says, through the master UI's reverse proxy. */
export interface DriverSide {
  properties: Record<string, string>
  /** The driver's metrics gauges (/metrics/json/), read only under dynamic allocation. */
  gauges?: Record<string, { value: unknown }>
}

export type UiGet = (path: string, timeoutMs?: number) => Promise<string>

/**
 * How long one driver has for all its reads: its REST API starts on its first call, seconds on a
 * busy machine (over 5 s seen on this project's two-core CI).
 */
export const driverAnswerMs = 20_000

/** Reads each active application's driver side (in parallel) and works out the demand. */
export async function readDemand(state: MasterState, get: UiGet, answerMs = driverAnswerMs): Promise<AppDemand[]> {
  const sides = await Promise.all(state.activeapps.map((app) => readDriverSide(app.id, get, answerMs).catch((error: unknown) => new Error(errorMessage(error)))))
  return state.activeapps.map((app, i) => {
    const side = sides[i]
    return side instanceof Error ? { ...appDemand(app, state.workers), driverError: side.message } : appDemand(app, state.workers, side)
  })
}

/** Its driver's properties and, under dynamic allocation, its gauges: both reads within one deadline, so a slow driver holds `status` up once. */
export async function readDriverSide(appId: string, get: UiGet, answerMs = driverAnswerMs): Promise<DriverSide> {
  const deadline = Date.now() + answerMs
  const left = () => {
    const ms = deadline - Date.now()
    // A timeout of 0 would be none at all.
    if (ms <= 0) throw new Error(`the ${answerMs / 1000} s its driver has to answer ran out`)
    return ms
  }
  const proxied = `/proxy/${appId}`
  const environment = JSON.parse(await get(`${proxied}/api/v1/applications/${appId}/environment`, left())) as { sparkProperties: Array<[string, string]> }
  const properties = Object.fromEntries(environment.sparkProperties)
  if (properties['spark.dynamicAllocation.enabled'] !== 'true') return { properties }
  const metrics = JSON.parse(await get(`${proxied}/metrics/json/`, left())) as { gauges: Record<string, { value: unknown }> }
  return { properties, gauges: metrics.gauges }
}

/** One application's demand from the master's view of it and, when known, its driver's. */
export function appDemand(app: AppState, workers: WorkerState[], side?: DriverSide): AppDemand {
  const demand: AppDemand = {
    id: app.id,
    name: app.name,
    user: app.user,
    state: app.state,
    startTime: app.starttime,
    durationMs: app.duration,
    coresGranted: app.cores,
    memoryPerExecutorMiB: app.memoryperexecutor ?? app.memoryperslave ?? 0,
    coresPerExecutor: null,
    coresMax: null,
  }
  if (side) {
    const whole = (key: string) => (side.properties[key] === undefined ? null : Number.parseInt(side.properties[key], 10))
    demand.coresPerExecutor = whole('spark.executor.cores')
    demand.coresMax = whole('spark.cores.max')
    demand.driverHost = side.properties['spark.driver.host']
    if (side.gauges) demand.executors = allocation(app.id, side.gauges)
    demand.coresWanted = coresWanted(demand)
  }
  demand.waiting = waitingReason(demand, workers)
  return demand
}

function allocation(appId: string, gauges: Record<string, { value: unknown }>): AppDemand['executors'] {
  // Spark's metrics namespace is the application id unless spark.metrics.namespace says otherwise: then any prefix.
  const gauge = (name: string) => {
    const key = `${appId}.driver.ExecutorAllocationManager.executors.${name}`
    const found = gauges[key] ?? Object.entries(gauges).find(([k]) => k.endsWith(`.driver.ExecutorAllocationManager.executors.${name}`))?.[1]
    return typeof found?.value === 'number' ? found.value : undefined
  }
  const current = gauge('numberAllExecutors')
  const target = gauge('numberTargetExecutors')
  return current === undefined || target === undefined ? undefined : { current, target }
}

function coresWanted(demand: AppDemand): number | null {
  const capped = demand.coresMax === null ? null : Math.max(0, demand.coresMax - demand.coresGranted)
  if (!demand.executors) return capped
  // An executor without spark.executor.cores takes a whole worker's free cores: at least one.
  const asked = Math.max(0, demand.executors.target - demand.executors.current) * (demand.coresPerExecutor ?? 1)
  return capped === null ? asked : Math.min(asked, capped)
}

/**
 * The master places an executor on an ALIVE worker with the executor's cores and memory free
 * (Master.scala's scheduling): when an application still wants cores and no worker has that
 * room, this says so with the numbers. An uncapped running application is not waiting: it simply
 * takes what comes free.
 */
export function waitingReason(demand: AppDemand, workers: WorkerState[]): string | undefined {
  const wantsMore = demand.coresWanted === undefined || demand.coresWanted === null ? demand.state === 'WAITING' : demand.coresWanted > 0
  if (!wantsMore) return demand.state === 'WAITING' && demand.executors?.target === 0 ? 'idle: dynamic allocation asks for no executor now' : undefined
  const cores = demand.coresPerExecutor ?? 1
  const memory = demand.memoryPerExecutorMiB
  const wants = `wants ${plural(cores, 'core')} × ${memory} MiB per executor`
  const alive = aliveWorkers({ workers })
  if (alive.length === 0) return `${wants}; no worker is alive`
  if (alive.some((w) => w.coresfree >= cores && w.memoryfree >= memory)) return undefined
  const mostCores = Math.max(...alive.map((w) => w.coresfree))
  const mostMemory = Math.max(...alive.map((w) => w.memoryfree))
  return `${wants}; no worker has them (most free on a worker: ${plural(mostCores, 'core')}, ${mostMemory} MiB)`
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}
