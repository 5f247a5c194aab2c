// The room check on Docker: the pods' requests against the engine's CPUs and memory (GET /info),
// asked of a fake engine on a unix socket.
import { describe, expect, it } from 'vitest'
import { checkRoom } from '../../scripts/check-room.ts'
import { parseConfig } from '../../scripts/lib/config.ts'
import { StepError } from '../../scripts/lib/errors.ts'
import { makeTarget } from '../../scripts/lib/target.ts'
import { useFakeEngine } from './fake-engine.ts'

const engine = useFakeEngine()
const GiB = 2 ** 30

/** An engine with `cpus` CPUs and `memoryGiB` of memory (Docker Desktop's VM, say). */
function engineWith(cpus: number, memoryGiB: number) {
  engine.reset((request) => (request.method === 'GET' && request.url === '/info' ? { json: { NCPU: cpus, MemTotal: memoryGiB * GiB, ServerVersion: '28.0.0' } } : undefined))
}

async function roomFor(argv: string[]) {
  const config = parseConfig('up', ['--platform', 'docker', ...argv], {})
  return checkRoom(makeTarget(config, 'docker'), config)
}

async function refusal(argv: string[]): Promise<StepError> {
  const error = await roomFor(argv).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(StepError)
  return error as StepError
}

describe('checkRoom on Docker', () => {
  it("accepts the default shape on an engine that holds it, saying what is requested and what the engine has", async () => {
    engineWith(8, 16)
    expect(await roomFor([])).toEqual({ done: '1.35 CPUs / 6144 MiB requested, 8 CPUs / 16384 MiB in all on the Docker engine' })
    expect(engine.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /info'])
  })

  it('refuses 64 workers of 64 cores with the numbers and the ways out', async () => {
    engineWith(64, 256)
    const error = await refusal(['--workers', '64', '--worker-cores', '64'])
    expect(error.message).toBe(
      'the Docker engine has no room for this cluster: it requests 2048.35 CPUs / 1681408 MiB (master 0.1/1024, 64 workers × 32/26240, Pi driver 0.25/1024 (CPUs/MiB)), 64 CPUs / 262144 MiB is in all',
    )
    expect(error.details).toBe(
      '  - ask for less: at most 1 worker of this size fit (--workers 1), or make each smaller (--worker-cores, --worker-memory)\n  - or give the Docker engine more (Docker Desktop: Settings → Resources)',
    )
  })

  it("refuses more cores per worker than the engine's CPUs (Docker would refuse the container half-way through the apply)", async () => {
    engineWith(4, 64)
    const error = await refusal(['--workers', '1', '--worker-cores', '8'])
    expect(error.message).toBe("--worker-cores 8 is more than the Docker engine's 4 CPUs: Docker refuses a container limited to more CPUs than it has")
    expect(error.details).toBe('  - ask for less: --worker-cores 4 or fewer\n  - or give the Docker engine more (Docker Desktop: Settings → Resources)')
  })

  it('accepts as many cores per worker as the engine has', async () => {
    engineWith(4, 64)
    expect(await roomFor(['--workers', '1', '--worker-cores', '4'])).toHaveProperty('done')
  })
})
