// npm run connect never starts a server that would take clients without a token.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { sparkAuthConf } from '../../scripts/lib/cluster-secret.ts'
import { parseConfig } from '../../scripts/lib/config.ts'
import { makeTarget } from '../../scripts/lib/target.ts'
import { fake } from './fake-proc.ts'

vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))
const { applyConnect } = await import('../../scripts/connect.ts')

const target = makeTarget(parseConfig('connect', ['--platform', 'docker'], {}), 'docker')
const masterLine = ['id1', 'spark-master', 'running', 'Up', 'spark-standalone:4.3.0-0123456789ab', 'h', 'spark', 'master', ''].join('\t')
const cluster = (conf: string) => (command: { line: string }) => {
  if (command.line.startsWith('docker ps')) return { stdout: command.line.includes('role=connect') ? '' : masterLine }
  if (command.line.includes('--entrypoint cat')) return { stdout: conf }
  return {}
}

beforeEach(() => fake.reset())

describe('applyConnect on Docker', () => {
  it('refuses a cluster whose conf holds no client token, before any container is started', async () => {
    fake.reset(cluster('spark.authenticate true\nspark.authenticate.secret abc\n'))
    await expect(applyConnect(target)).rejects.toThrow(/holds no client token: the server is not started/)
    expect(fake.lines().filter((line) => line.startsWith('docker run') && !line.includes('--entrypoint cat'))).toEqual([])
  })

  it('refuses Spark 3.5, whose Connect server cannot require a token, before reading anything else', async () => {
    fake.reset((command) => (command.line.startsWith('docker ps') ? { stdout: masterLine.replace('4.3.0', '3.5.9') } : {}))
    await expect(applyConnect(target)).rejects.toThrow(/Spark 3\.5\.9, whose Spark Connect server cannot require a token/)
    expect(fake.lines().filter((line) => line.startsWith('docker run'))).toEqual([])
  })

  it('starts the server once the token is there, and hands the token on', async () => {
    const conf = sparkAuthConf('a'.repeat(64), 'b'.repeat(64))
    fake.reset(cluster(conf))
    const { token, outcome } = await applyConnect(target)
    expect(token).toBe('b'.repeat(64))
    expect(outcome).toEqual({ done: 'container spark-connect created' })
    const started = fake.lines().find((line) => line.startsWith('docker run --detach'))!
    expect(started).toContain('--name spark-connect')
    expect(started).not.toContain('b'.repeat(64))
  })
})
