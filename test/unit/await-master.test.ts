// docker/await-master, the worker's first arg, run for real by bash against real sockets on loopback.
import { execFile } from 'node:child_process'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dockerDir } from '../../scripts/lib/paths.ts'

const script = join(dockerDir, 'await-master')

function awaitMaster(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = performance.now()
  return new Promise((resolve) => {
    execFile('bash', [script, ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr, ms: performance.now() - started })
    })
  })
}

describe('await-master', () => {
  let master: Server
  let port: number
  let closedPort: number
  beforeAll(async () => {
    master = createServer((socket) => socket.end())
    await new Promise<void>((resolve) => master.listen(0, '127.0.0.1', resolve))
    port = (master.address() as { port: number }).port
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    closedPort = (probe.address() as { port: number }).port
    await new Promise((resolve) => probe.close(resolve))
  })
  afterAll(() => new Promise((resolve) => master.close(resolve)))

  it('runs the command with its arguments, unchanged, once the master listens', async () => {
    const result = await awaitMaster(['echo', 'worker', `spark://127.0.0.1:${port}`])
    expect(result).toMatchObject({ code: 0, stdout: `worker spark://127.0.0.1:${port}\n`, stderr: '' })
  })

  it('takes any master of a standby list', async () => {
    const result = await awaitMaster(['echo', 'worker', `spark://127.0.0.1:${closedPort},127.0.0.1:${port}`], { SPARK_AWAIT_MASTER_SECONDS: '5' })
    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
  })

  it('waits while nothing listens, then starts anyway after SPARK_AWAIT_MASTER_SECONDS, saying so', async () => {
    const result = await awaitMaster(['echo', 'worker', `spark://127.0.0.1:${closedPort}`], { SPARK_AWAIT_MASTER_SECONDS: '2' })
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(`worker spark://127.0.0.1:${closedPort}\n`)
    expect(result.stderr).toBe(`await-master: no master listening at 127.0.0.1:${closedPort} after 2 s; starting anyway\n`)
    expect(result.ms).toBeGreaterThan(1_000)
  })

  it('starts at once without a spark:// argument, and passes on the exit code (exec)', async () => {
    expect(await awaitMaster(['echo', 'plain'])).toMatchObject({ code: 0, stdout: 'plain\n' })
    expect((await awaitMaster(['bash', '-c', 'exit 3', `spark://127.0.0.1:${port}`])).code).toBe(3)
  })
})
