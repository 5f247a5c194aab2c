import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { StepError } from './errors.ts'
import { onInterrupt } from './interrupt.ts'
import { cacheDir } from './paths.ts'
import { sleep } from './poll.ts'

/**
 * One command at a time changes a cluster from this machine. Two at once (two terminals, a script
 * and a person) would race for the same names: Docker lets both create a network `spark`, and the
 * cluster is then unusable until `cluster:down`; Kubernetes sees two first `cluster:up`s, of which
 * the create-only Secret lets one through. The lock is a file holding the owner's pid, made with
 * O_EXCL; a file whose process is gone (kill -9) is stale and taken over.
 */
export function lockPath(cluster: string): string {
  return cacheDir('locks', `${createHash('sha256').update(cluster).digest('hex').slice(0, 16)}.lock`)
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM'
  }
}

/** Holds the lock for `cluster` (waiting up to `timeoutMs` for another command to finish); returns its release. */
export async function lockCluster(cluster: string, timeoutMs: number, onWait: (line: string) => void = () => {}): Promise<() => void> {
  const path = lockPath(cluster)
  mkdirSync(dirname(path), { recursive: true })
  const deadline = Date.now() + timeoutMs
  for (let said = false; ; ) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' })
      break
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error
    }
    const owner = Number(readFileSync(path, 'utf8').trim() || NaN)
    // Empty: its owner is between creating and writing it; give it a moment.
    if (Number.isInteger(owner) && !alive(owner)) {
      rmSync(path, { force: true })
      continue
    }
    if (Date.now() > deadline) throw new StepError(`another command (pid ${owner}) is still changing ${cluster} from this machine after ${Math.round(timeoutMs / 1000)} s`, '  - wait for it to finish, or stop it; then run this again')
    if (!said) onWait(`waiting for another command (pid ${owner}) changing ${cluster} from this machine`)
    said = true
    await sleep(200)
  }
  const release = () => {
    try {
      if (readFileSync(path, 'utf8').trim() === String(process.pid)) rmSync(path, { force: true })
    } catch {
      // Already gone.
    }
  }
  const forget = onInterrupt(async () => release())
  return () => {
    forget()
    release()
  }
}
