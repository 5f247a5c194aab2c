// cluster:up on Docker: the network first (someone else's is refused before anything is made), then
// the secret volume and the containers, each labelled with the digest of the conf it starts on.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { authConfAnnotation, authConfDigest, connectTokenOf, secretOf } from '../../scripts/lib/cluster-secret.ts'
import { StepError } from '../../scripts/lib/errors.ts'
import { parseConfig } from '../../scripts/lib/config.ts'
import { loadManifests, type ClusterShape } from '../../scripts/lib/manifests.ts'
import { secretConfAnswer, useFakeEngine } from './fake-engine.ts'
import { fake } from './fake-proc.ts'

vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))
const { applyToDocker } = await import('../../scripts/lib/docker/apply.ts')
const { makeTarget } = await import('../../scripts/lib/target.ts')

const manifests = loadManifests()
const shape: ClusterShape = { image: 'spark-standalone:4.3.0-0123456789ab', namespace: 'default', workers: 2, workerCores: 1, workerMemory: '1g' }
const engine = useFakeEngine()

/** A Docker engine with nothing of ours on it: the volume file appears when the write runs. */
function emptyDocker() {
  let written: string | undefined
  fake.reset((command) => {
    if (command.argv[2] === 'inspect') return { exitCode: 1, stderr: 'not found' }
    if (command.line.includes('-c') && command.argv.at(-2) === 'spark-defaults.conf') written = String(command.options.input)
    return undefined
  })
  engine.reset((request) => (request.url === '/info' ? { json: { NCPU: 8, MemTotal: 16 * 2 ** 30 } } : secretConfAnswer(request, written)))
  return { written: () => written }
}

beforeEach(() => fake.reset())

describe('applyToDocker', () => {
  it("refuses a same-named network of someone else's before any volume or container is made", async () => {
    fake.reset((command) => (command.line.startsWith('docker network inspect') ? { stdout: '{"com.example.owner":"them"}' } : undefined))
    engine.reset()
    await expect(applyToDocker(manifests, shape, { uiKill: false, workerCores: 1 })).rejects.toThrow(StepError)
    expect(fake.lines()).toEqual(['docker network inspect --format {{json .Labels}} spark'])
    expect(engine.requests).toEqual([])
  })

  it("makes the network, the secret volume and the containers, each container labelled with the conf's digest and none holding the secret", async () => {
    const docker = emptyDocker()
    const outcome = await applyToDocker(manifests, shape, { uiKill: false, workerCores: 1 })
    expect(outcome).toEqual({ done: 'network spark created, secret volume spark-auth created, volume spark-master-recovery created, volume spark-events created, spark-master created, spark-worker-1 created, spark-worker-2 created' })
    const conf = docker.written()!
    const started = fake.lines().filter((line) => line.startsWith('docker run --detach'))
    expect(started).toHaveLength(3)
    const [secret, token] = [secretOf(conf)!, connectTokenOf(conf)!]
    expect(secret).toMatch(/^[0-9a-f]{64}$/)
    expect(token).toMatch(/^[0-9a-f]{64}$/)
    for (const line of started) {
      expect(line).toContain(`--label ${authConfAnnotation}=${authConfDigest(conf)}`)
      expect(line).not.toContain(secret)
      expect(line).not.toContain(token)
    }
  })

  it("starts the master within the engine's CPUs, asked by apply itself (it runs alone too): its two-core limit becomes one on a one-CPU engine", async () => {
    const docker = emptyDocker()
    engine.reset((request) => (request.url === '/info' ? { json: { NCPU: 1, MemTotal: 8 * 2 ** 30 } } : secretConfAnswer(request, docker.written())))
    const config = parseConfig('up', ['--platform', 'docker', '--workers', '1'], {})
    // No room check before it: `npx tsx scripts/apply.ts --platform docker` runs apply alone.
    await makeTarget(config, 'docker', manifests).runtime.apply(shape.image, {}, config.workers)
    const started = fake.lines().filter((line) => line.startsWith('docker run --detach'))
    expect(started.map((line) => / --cpus (\S+)/.exec(line)?.[1])).toEqual(['1', '1'])
  })
})
