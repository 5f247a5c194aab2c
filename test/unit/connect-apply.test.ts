// npm run connect never starts a server that would take clients without a token.
import { createHash } from 'node:crypto'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { authConfAnnotation, sparkAuthConf } from '../../scripts/lib/cluster-secret.ts'
import { parseConfig } from '../../scripts/lib/config.ts'
import { makeTarget } from '../../scripts/lib/target.ts'
import { secretConfAnswer, useFakeEngine } from './fake-engine.ts'
import { fake } from './fake-proc.ts'

vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))
// Whether this machine's port 15002 is free is not what these tests are about (test/unit/loopback.test.ts is).
vi.mock('../../scripts/lib/loopback.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../scripts/lib/loopback.ts')>()),
  requireFreeLoopback: vi.fn(async () => {}),
}))
const { applyConnect } = await import('../../scripts/connect.ts')

const target = makeTarget(parseConfig('connect', ['--platform', 'docker'], {}), 'docker')
const masterLine = ['id1', 'spark-master', 'running', 'Up', 'spark-standalone:4.3.0-0123456789ab', 'h', 'spark', 'master', ''].join('\t')
const engine = useFakeEngine()

/** A running master (the docker CLI) whose secret volume holds `conf` (the Engine API). */
function cluster(conf: string) {
  fake.reset((command) => (command.line.startsWith('docker ps') ? { stdout: command.line.includes('role=connect') ? '' : masterLine } : undefined))
  engine.reset((request) => {
    if (request.url === '/volumes/spark-auth') return { json: { Name: 'spark-auth' } }
    return secretConfAnswer(request, conf)
  })
}

const startedContainers = () => fake.lines().filter((line) => line.startsWith('docker run'))

beforeEach(() => fake.reset())

describe('applyConnect on Docker', () => {
  it('refuses a cluster whose conf holds no client token, before any container is started', async () => {
    cluster('spark.authenticate true\nspark.authenticate.secret abc\n')
    await expect(applyConnect(target)).rejects.toThrow(/holds no client token: the server is not started/)
    expect(startedContainers()).toEqual([])
  })

  it('refuses a cluster whose conf cannot be used (an empty volume: no authentication), before any container is started', async () => {
    cluster('')
    await expect(applyConnect(target)).rejects.toThrow("the cluster's secret cannot be used (its spark-defaults.conf is empty): the server is not started")
    expect(startedContainers()).toEqual([])
  })

  it('refuses Spark 3.5, whose Connect server cannot require a token, before reading anything else', async () => {
    fake.reset((command) => (command.line.startsWith('docker ps') ? { stdout: masterLine.replace('4.3.0', '3.5.9') } : {}))
    engine.reset()
    await expect(applyConnect(target)).rejects.toThrow(/Spark 3\.5\.9, whose Spark Connect server cannot require a token/)
    expect(startedContainers()).toEqual([])
    expect(engine.requests).toEqual([])
  })

  it("starts the server once the token is there, labelled with the conf's digest, and hands the token on", async () => {
    const conf = sparkAuthConf({ uiKill: false, workerCores: 1 }, 'a'.repeat(64), 'b'.repeat(64))
    cluster(conf)
    const { token, outcome } = await applyConnect(target)
    expect(token).toBe('b'.repeat(64))
    expect(outcome).toEqual({ done: 'container spark-connect created' })
    const started = fake.lines().find((line) => line.startsWith('docker run --detach'))!
    expect(started).toContain('--name spark-connect')
    expect(started).toContain(`--label ${authConfAnnotation}=${createHash('sha256').update(conf).digest('hex').slice(0, 16)}`)
    expect(started).not.toContain('a'.repeat(64))
    expect(started).not.toContain('b'.repeat(64))
  })
})
