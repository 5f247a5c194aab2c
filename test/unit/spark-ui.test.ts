import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { aliveWorkers, fetchMasterState, urlReader, waitForWorkers, workerMismatch, type MasterState, type WorkerState } from '../../scripts/lib/spark-ui.ts'

function worker(n: number, overrides: Partial<WorkerState> = {}): WorkerState {
  return { id: `worker-20250101000000-10.0.0.${n}-4000${n}`, host: `10.0.0.${n}`, cores: 1, coresused: 0, coresfree: 1, memory: 1024, memoryused: 0, memoryfree: 1024, state: 'ALIVE', ...overrides }
}

function master(workers: WorkerState[], overrides: Partial<MasterState> = {}): MasterState {
  const alive = workers.filter((w) => w.state === 'ALIVE')
  return {
    url: 'spark://spark-master-service:7077',
    status: 'ALIVE',
    aliveworkers: alive.length,
    cores: alive.reduce((sum, w) => sum + w.cores, 0),
    memory: alive.reduce((sum, w) => sum + w.memory, 0),
    workers,
    activeapps: [],
    completedapps: [],
    ...overrides,
  }
}

const expected = { count: 2, cores: 1, memory: '1g' }

describe('workerMismatch', () => {
  it('is undefined when the master reports exactly the expected workers', () => {
    expect(workerMismatch(master([worker(1), worker(2)]), expected)).toBeUndefined()
  })

  it('reports a master that is not ALIVE', () => {
    const reason = workerMismatch(master([worker(1), worker(2)], { status: 'RECOVERING' }), expected)
    expect(reason).toBe('master status is RECOVERING')
    expect(workerMismatch(master([worker(1), worker(2)], { status: 'STANDBY' }), expected)).toMatch(/STANDBY/)
  })

  it("waits for the master's own count to agree with its list of ALIVE workers", () => {
    expect(workerMismatch(master([worker(1), worker(2)], { aliveworkers: 3 }), expected)).toBe('the master counts 3 of 2 workers alive')
  })

  it('reports too few ALIVE workers', () => {
    expect(workerMismatch(master([worker(1)]), expected)).toBe('1 of 2 workers alive')
    expect(workerMismatch(master([]), expected)).toBe('0 of 2 workers alive')
  })

  it('reports too many ALIVE workers', () => {
    expect(workerMismatch(master([worker(1), worker(2), worker(3)]), expected)).toBe('3 of 2 workers alive')
  })

  it('with elastic workers, takes any count in the range (the controller may be adding or removing one)', () => {
    const elastic = { ...expected, range: { min: 1, max: 3 } }
    expect(workerMismatch(master([worker(1)]), elastic)).toBeUndefined()
    expect(workerMismatch(master([worker(1), worker(2), worker(3)]), elastic)).toBeUndefined()
    expect(workerMismatch(master([]), elastic)).toBe('0 workers alive, expected 1..3')
    expect(workerMismatch(master([worker(1), worker(2), worker(3), worker(4)]), elastic)).toBe('4 workers alive, expected 1..3')
    expect(workerMismatch(master([worker(1), worker(2)], { aliveworkers: 3 }), elastic)).toBe('the master counts 3 of 2 workers alive')
  })

  it('ignores DEAD (and other non-ALIVE) workers', () => {
    const state = master([worker(1), worker(9, { state: 'DEAD', cores: 8, memory: 1 }), worker(2), worker(8, { state: 'DECOMMISSIONED' })])
    expect(workerMismatch(state, expected)).toBeUndefined()
    expect(workerMismatch(master([worker(1), worker(2, { state: 'DEAD' })]), expected)).toBe('1 of 2 workers alive')
  })

  it('reports a worker with the wrong cores', () => {
    const reason = workerMismatch(master([worker(1), worker(2, { cores: 2 })]), expected)
    expect(reason).toContain(worker(2).id)
    expect(reason).toContain('2 cores/1024 MiB')
    expect(reason).toContain('expected 1/1024')
  })

  it('reports a worker with the wrong memory', () => {
    const reason = workerMismatch(master([worker(1, { memory: 512 }), worker(2)]), expected)
    expect(reason).toContain(worker(1).id)
    expect(reason).toContain('512 MiB')
    expect(reason).toContain('expected 1/1024')
  })

  it('compares memory in MiB whatever unit it was given in', () => {
    const workers = [worker(1, { cores: 3, memory: 1536 }), worker(2, { cores: 3, memory: 1536 })]
    expect(workerMismatch(master(workers), { count: 2, cores: 3, memory: '1536m' })).toBeUndefined()
    expect(workerMismatch(master(workers.map((w) => ({ ...w, memory: 4096 }))), { count: 2, cores: 3, memory: '4g' })).toBeUndefined()
    expect(workerMismatch(master(workers), { count: 2, cores: 3, memory: '1572864k' })).toBeUndefined()
  })

  it('accepts what Spark reports for a memory size that is not whole MiB (Spark truncates to whole MiB)', () => {
    // parseConfig accepts --worker-memory 524289k (≥ 512m); Spark's Worker turns it into 512 MiB
    // (Utils.memoryStringToMb truncates), and that is what /json/ reports.
    const workers = [worker(1, { memory: 512 }), worker(2, { memory: 512 })]
    expect(workerMismatch(master(workers), { count: 2, cores: 1, memory: '524289k' })).toBeUndefined()
  })

  it('aliveWorkers keeps only ALIVE ones', () => {
    expect(aliveWorkers(master([worker(1), worker(2, { state: 'DEAD' })])).map((w) => w.host)).toEqual(['10.0.0.1'])
  })
})

/** A real HTTP server on 127.0.0.1 answering /json/ with whatever `answer` returns for the n-th request. */
async function startMaster(answer: (n: number) => { status?: number; body: unknown }): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = []
  const server = createServer((request, response) => {
    requests.push(request.url ?? '')
    if (request.url !== '/json/') {
      response.writeHead(404).end('not found')
      return
    }
    const { status = 200, body } = answer(requests.filter((u) => u === '/json/').length)
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, server, requests }
}

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
})

describe('fetchMasterState', () => {
  it('reads /json/ from the UI URL', async () => {
    const state = master([worker(1)])
    const { url, server, requests } = await startMaster(() => ({ body: state }))
    servers.push(server)
    expect(await fetchMasterState(url)).toEqual(state)
    expect(requests).toEqual(['/json/'])
  })

  it('throws on an HTTP error, naming the status', async () => {
    const { url, server } = await startMaster(() => ({ status: 503, body: {} }))
    servers.push(server)
    await expect(fetchMasterState(url)).rejects.toThrow(/HTTP 503/)
  })
})

describe('waitForWorkers against a local /json/ server', () => {
  it('resolves once the answer changes from 1 worker to 2', async () => {
    const { url, server, requests } = await startMaster((n) => ({ body: master(n === 1 ? [worker(1)] : [worker(1), worker(2)]) }))
    servers.push(server)
    const progress: string[] = []
    const state = await waitForWorkers(urlReader(url), expected, { timeoutMs: 10_000, onProgress: (reason) => progress.push(reason) })
    expect(state.aliveworkers).toBe(2)
    expect(state.workers.map((w) => w.host)).toEqual(['10.0.0.1', '10.0.0.2'])
    expect(progress).toEqual(['1 of 2 workers alive'])
    expect(requests).toEqual(['/json/', '/json/'])
  })

  it('rejects with the last reason when the master never matches', async () => {
    const { url, server, requests } = await startMaster((n) => ({ body: master(n === 1 ? [] : [worker(1)]) }))
    servers.push(server)
    // Long enough for a second read (checks are 250 ms apart) even when a loaded machine is slow to
    // answer the first: at 50 ms the wait could end after the first read, with its "0 of 2".
    const error = await waitForWorkers(urlReader(url), expected, { timeoutMs: 1_500 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toMatch(/timed out/)
    expect((error as Error).message).toMatch(/waiting for 2 alive workers \(master UI http:\/\/127\.0\.0\.1:\d+\)/)
    expect((error as Error).message).toMatch(/1 of 2 workers alive$/)
    expect(requests.length).toBeGreaterThanOrEqual(2)
  })

  it('reports a UI that is not answering, and keeps polling', async () => {
    const { url, server } = await startMaster(() => ({ status: 500, body: { error: 'boom' } }))
    servers.push(server)
    const progress: string[] = []
    const error = await waitForWorkers(urlReader(url), expected, { timeoutMs: 20, onProgress: (r) => progress.push(r) }).catch((e: unknown) => e)
    expect((error as Error).message).toMatch(/UI not answering \(.*HTTP 500\)/)
    expect(progress[0]).toMatch(/UI not answering/)
  })
})
