// Commands that change a cluster take turns: a lock file per cluster, with stale ones taken over.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { lockCluster } from '../../scripts/lib/cluster-lock.ts'
import { StepError } from '../../scripts/lib/errors.ts'

let cache: string
const lockDir = () => join(cache, 'spark-standalone-k8s', 'locks')
const lockFile = () => join(lockDir(), readdirSync(lockDir()).find((name) => name.endsWith('.lock'))!)
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
    const release = await lockCluster('cluster A', 1_000)
    expect(readdirSync(lockDir())).toHaveLength(1)
    expect(Number(readFileSync(lockFile(), 'utf8'))).toBe(process.pid)
    release()
    expect(readdirSync(lockDir())).toEqual([])
  })

  it('a second holder of the same cluster waits, says for which pid, and gets it once released; another cluster does not wait', async () => {
    const release = await lockCluster('cluster A', 1_000)
    const other = await lockCluster('cluster B', 100)
    other()
    const said: string[] = []
    const second = lockCluster('cluster A', 5_000, (line) => said.push(line))
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(said).toEqual([`waiting for another command (pid ${process.pid}) changing cluster A from this machine`])
    release()
    ;(await second)()
  })

  it('times out with one line naming the holder and the file to remove', async () => {
    const release = await lockCluster('cluster A', 1_000)
    try {
      const error = await lockCluster('cluster A', 300).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(StepError)
      expect((error as StepError).message).toBe(`another command (pid ${process.pid}) is still changing cluster A from this machine after 0 s`)
      expect((error as StepError).details).toContain(lockFile())
    } finally {
      release()
    }
  })

  it('takes over a lock whose process is gone, and an unwritten one left long ago, but not a fresh unwritten one', async () => {
    // Learn the file's name, then leave stale locks under it.
    const first = await lockCluster('cluster A', 1_000)
    const file = lockFile()
    first()
    writeFileSync(file, String(deadPid()))
    ;(await lockCluster('cluster A', 1_000))()
    writeFileSync(file, '')
    const old = new Date(Date.now() - 60_000)
    utimesSync(file, old, old)
    ;(await lockCluster('cluster A', 1_000))()
    writeFileSync(file, '')
    await expect(lockCluster('cluster A', 300)).rejects.toThrow(/a process just starting/)
  })
})
