import { errorMessage } from './errors.ts'
import { pollUntil } from './poll.ts'
import { sparkMemoryToMebibytes } from './units.ts'
import { fetchWithin } from './http.ts'

/** The parts of the master's /json/ we use (core/.../deploy/JsonProtocol.scala). */
export interface MasterState {
  url: string
  status: string
  aliveworkers: number
  cores: number
  memory: number
  workers: WorkerState[]
  activeapps: AppState[]
  completedapps: AppState[]
}

export interface WorkerState {
  id: string
  host: string
  cores: number
  coresused: number
  coresfree: number
  /** MiB, as every memory figure of /json/. */
  memory: number
  memoryused: number
  memoryfree: number
  state: string
}

export interface AppState {
  id: string
  name: string
  user: string
  /** Cores granted (its executors' cores). */
  cores: number
  /** Spark 4.x; Spark 3.5 has only memoryperslave, the same figure. */
  memoryperexecutor?: number
  memoryperslave?: number
  /** WAITING, RUNNING, FINISHED, FAILED, KILLED, UNKNOWN. */
  state: string
  /** Epoch milliseconds. */
  starttime: number
  /** Milliseconds: so far for an active application. */
  duration: number
}

export async function fetchMasterState(uiUrl: string, timeoutMs = 5_000): Promise<MasterState> {
  return JSON.parse(await fetchUiPath(uiUrl, '/json/', timeoutMs)) as MasterState
}

/** A GET of one path of a UI that answers directly, as text. */
export async function fetchUiPath(uiUrl: string, path: string, timeoutMs = 5_000): Promise<string> {
  return fetchWithin(new URL(path, uiUrl), timeoutMs, {}, async (response) => {
    if (!response.ok) throw new Error(`${new URL(path, uiUrl)} answered HTTP ${response.status}`)
    return response.text()
  })
}

/** Reading the master's state from a URL that answers directly (the Docker platform's loopback port, tests). */
export function urlReader(uiUrl: string): { via: string; readState: () => Promise<MasterState> } {
  return { via: uiUrl, readState: () => fetchMasterState(uiUrl) }
}

export function aliveWorkers(state: Pick<MasterState, 'workers'>): WorkerState[] {
  return state.workers.filter((worker) => worker.state === 'ALIVE')
}

export interface ExpectedWorkers {
  count: number
  cores: number
  memory: string
  /** Elastic workers: the controller may add or remove workers meanwhile, so any count in the range will do. */
  range?: { min: number; max: number }
}

/** Why the master's state is not yet what we asked for, or undefined when it is. */
export function workerMismatch(state: MasterState, expected: ExpectedWorkers): string | undefined {
  if (state.status !== 'ALIVE') return `master status is ${state.status}`
  const alive = aliveWorkers(state)
  const { range } = expected
  if (range) {
    if (alive.length < range.min || alive.length > range.max) return `${alive.length} workers alive, expected ${range.min}..${range.max}`
  } else if (alive.length !== expected.count) return `${alive.length} of ${expected.count} workers alive`
  // The master's own count too: what we report is that number, and for a moment after a worker
  // leaves (decommissioned by a scale-down) it may not yet agree with the list.
  if (state.aliveworkers !== alive.length) return `the master counts ${state.aliveworkers} of ${alive.length} workers alive`
  // Spark keeps worker memory in whole MiB, rounding down.
  const memoryMiB = Math.floor(sparkMemoryToMebibytes(expected.memory))
  const odd = alive.find((worker) => worker.cores !== expected.cores || worker.memory !== memoryMiB)
  if (odd) return `worker ${odd.id} has ${odd.cores} cores/${odd.memory} MiB, expected ${expected.cores}/${memoryMiB}`
  return undefined
}

/** Polls the master's state until it reports exactly the expected workers; throws with the last reason. */
export function waitForWorkers(
  ui: { via: string; readState: () => Promise<MasterState> },
  expected: ExpectedWorkers,
  options: { timeoutMs: number; onProgress?: (reason: string) => void },
): Promise<MasterState> {
  return pollUntil<MasterState>(
    `${expected.count} alive workers (master UI ${ui.via})`,
    options.timeoutMs,
    async () => {
      try {
        const state = await ui.readState()
        const mismatch = workerMismatch(state, expected)
        return mismatch ? { waiting: mismatch } : { done: state }
      } catch (error) {
        return { waiting: `UI not answering (${errorMessage(error)})` }
      }
    },
    options.onProgress,
    // A read of /json/ costs the master next to nothing, and workers register at no predictable moment.
    250,
  )
}
