// Commands that change a cluster take turns: a lock file per cluster (keyed by what the cluster really
// is), with stale ones taken over, also when their pid was reused.
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { lockCluster } from '../../scripts/lib/cluster-lock.ts'
import { parseConfig } from '../../scripts/lib/config.ts'
import { StepError } from '../../scripts/lib/errors.ts'
import { connectKube } from '../../scripts/lib/kube/kube.ts'
import { loadManifests } from '../../scripts/lib/manifests.ts'
import { makeTarget } from '../../scripts/lib/target.ts'

let cache: string
const lockDir = () => join(cache, 'spark-standalone-k8s', 'locks')
const lockFile = () => join(lockDir(), readdirSync(lockDir()).find((name) => name.endsWith('.lock'))!)
const clusterA = { key: 'key A', name: 'cluster A' }
const clusterB = { key: 'key B', name: 'cluster B' }
/** A pid that surely ran and is gone now. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!

beforeEach(() => {
  cache = mkdtempSync(join(tmpdir(), 'ssk8s-lock-'))
  process.env.XDG_CACHE_HOME = cache
})
afterEach(() => {
  delete process.env.XDG_CACHE_HOME
  rmSync(cache, { recursive: true, force: true })
})

describe('lockCluster', () => {
  it('holds a file with this pid while held, and removes it on release', async () => {
    const release = await lockCluster(clusterA, 1_000)
    expect(readdirSync(lockDir())).toHaveLength(1)
    expect(Number(readFileSync(lockFile(), 'utf8').split(' ')[0])).toBe(process.pid)
    release()
    expect(readdirSync(lockDir())).toEqual([])
  })

  it('a second holder of the same cluster waits, says for which pid, and gets it once released; another cluster does not wait', async () => {
    const release = await lockCluster(clusterA, 1_000)
    const other = await lockCluster(clusterB, 100)
    other()
    const said: string[] = []
    const second = lockCluster(clusterA, 5_000, (line) => said.push(line))
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(said).toEqual([`waiting for another command (pid ${process.pid}) changing cluster A from this machine`])
    release()
    ;(await second)()
  })

  it('times out with one line naming the holder and the file to remove', async () => {
    const release = await lockCluster(clusterA, 1_000)
    try {
      const error = await lockCluster(clusterA, 300).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(StepError)
      expect((error as StepError).message).toBe(`another command (pid ${process.pid}) is still changing cluster A from this machine after 0 s`)
      expect((error as StepError).details).toContain(lockFile())
    } finally {
      release()
    }
  })

  it('takes over a lock whose process is gone, and an unwritten one left long ago, but not a fresh unwritten one', async () => {
    // Learn the file's name, then leave stale locks under it.
    const first = await lockCluster(clusterA, 1_000)
    const file = lockFile()
    first()
    writeFileSync(file, String(deadPid()))
    ;(await lockCluster(clusterA, 1_000))()
    writeFileSync(file, '')
    const old = new Date(Date.now() - 60_000)
    utimesSync(file, old, old)
    ;(await lockCluster(clusterA, 1_000))()
    writeFileSync(file, '')
    await expect(lockCluster(clusterA, 300)).rejects.toThrow(/a process just starting/)
  })
})

describe('a lock whose pid was reused', () => {
  it.runIf(process.platform === 'linux')('records when its holder started, and takes over a lock whose pid another process has taken since', async () => {
    const release = await lockCluster(clusterA, 1_000)
    const file = lockFile()
    // Field 22 of /proc/<pid>/stat, counted after the command name in parentheses.
    const started = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[19]
    expect(readFileSync(file, 'utf8')).toBe(`${process.pid} ${started}`)
    release()
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'])
    try {
      // The pid is alive, but it is not the process that wrote the lock: that one started earlier.
      writeFileSync(file, `${other.pid} 1`)
      ;(await lockCluster(clusterA, 300))()
      // The same pid with its own start time is a holder to wait for.
      writeFileSync(file, `${other.pid} ${readFileSync(`/proc/${other.pid}/stat`, 'utf8').split(') ')[1].split(' ')[19]}`)
      await expect(lockCluster(clusterA, 300)).rejects.toThrow(`another command (pid ${other.pid}) is still changing cluster A`)
    } finally {
      other.kill()
    }
  })
})

describe('the lock key: what the cluster is, however it is named', () => {
  const manifests = loadManifests()

  it('one Docker socket reached through a linked folder (/var/run → /run) is one lock; a tcp host is one in any case and with its default port', async () => {
    const run = join(cache, 'run')
    mkdirSync(run)
    writeFileSync(join(run, 'docker.sock'), '')
    symlinkSync(run, join(cache, 'var-run'))
    const target = makeTarget(parseConfig('up', ['--platform', 'docker'], {}), 'docker', manifests)
    const keyFor = async (host: string) => {
      const saved = process.env.DOCKER_HOST
      process.env.DOCKER_HOST = host
      try {
        return await target.runtime.lockKey()
      } finally {
        if (saved === undefined) delete process.env.DOCKER_HOST
        else process.env.DOCKER_HOST = saved
      }
    }
    const direct = { key: await keyFor(`unix://${run}/docker.sock`), name: 'the engine' }
    const linked = { key: await keyFor(`unix://${cache}/var-run/docker.sock`), name: 'the engine' }
    const release = await lockCluster(direct, 1_000)
    try {
      await expect(lockCluster(linked, 300)).rejects.toThrow(/is still changing the engine/)
    } finally {
      release()
    }
    expect(await keyFor('tcp://Build-Box:2375')).toBe(await keyFor('tcp://build-box'))
    expect(await keyFor('tcp://build-box:2376')).not.toBe(await keyFor('tcp://build-box'))
  })

  it('two contexts of one cluster are one lock, in one namespace; another namespace or API server is another', async () => {
    const kubeconfig = join(cache, 'kubeconfig')
    const cluster = (name: string, server: string) => ({ name, cluster: { server } })
    const context = (name: string, clusterName: string) => ({ name, context: { cluster: clusterName, user: 'me' } })
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [cluster('prod', 'https://API.example.com:443/'), cluster('prod-admin', 'https://api.example.com'), cluster('staging', 'https://api.example.com:6443')],
        users: [{ name: 'me', user: { token: 'fake-token' } }],
        contexts: [context('prod', 'prod'), context('prod-admin', 'prod-admin'), context('staging', 'staging')],
        'current-context': 'prod',
      }),
    )
    const keyFor = (name: string, namespace: string) =>
      makeTarget(parseConfig('up', ['--platform', 'kubernetes', '--context', name, '--namespace', namespace], {}), 'kubernetes', manifests, () => connectKube(name, kubeconfig)).runtime.lockKey()
    const release = await lockCluster({ key: await keyFor('prod', 'spark'), name: 'prod' }, 1_000)
    try {
      await expect(lockCluster({ key: await keyFor('prod-admin', 'spark'), name: 'prod' }, 300)).rejects.toThrow(/is still changing prod/)
      ;(await lockCluster({ key: await keyFor('prod', 'other'), name: 'prod' }, 300))()
      ;(await lockCluster({ key: await keyFor('staging', 'spark'), name: 'staging' }, 300))()
    } finally {
      release()
    }
  })
})
