import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { StepError } from './errors.ts'
import { onInterrupt } from './interrupt.ts'
import { cacheDir } from './paths.ts'
import { sleep } from './poll.ts'

/**
 * One command at a time changes a cluster from this machine. Two at once (two terminals, a script
 * and a person) would race for the same names: Docker lets both create a network `spark`, and the
 * cluster is then unusable until `cluster:down`; on Kubernetes both would make a first Secret. The
 * lock is a file holding the owner's pid (and, where the system tells, when that process started),
 * made with O_EXCL. A file whose process is gone (kill -9), or whose pid another process has taken
 * since, is stale and taken over, by one waiter at a time.
 */
function lockPath(key: string): string {
  return cacheDir('locks', `${createHash('sha256').update(key).digest('hex').slice(0, 16)}.lock`)
}

/** A file left by a process killed between creating and writing it counts as stale after this long. */
const unwrittenGraceMs = 5_000

const isMissing = (error: unknown) => (error as { code?: string }).code === 'ENOENT'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM'
  }
}

/**
 * When process `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat, after the
 * command name, which may hold spaces and parentheses); undefined where there is no /proc.
 */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

/** What this process writes into a lock it holds. */
const ownerLine = (): string => [process.pid, processStart(process.pid)].filter((part) => part !== undefined).join(' ')

function tryCreate(path: string): boolean {
  try {
    writeFileSync(path, ownerLine(), { flag: 'wx' })
    return true
  } catch (error) {
    if ((error as { code?: string }).code === 'EEXIST') return false
    throw error
  }
}

type Holder = { state: 'gone' } | { state: 'stale'; content: string } | { state: 'held'; pid?: number }

function holderOf(path: string): Holder {
  try {
    const content = readFileSync(path, 'utf8')
    const [pidText, started] = content.trim().split(' ')
    const pid = Number(pidText)
    if (Number.isInteger(pid) && pid > 0) return alive(pid) && !reused(pid, started) ? { state: 'held', pid } : { state: 'stale', content }
    return Date.now() - statSync(path).mtimeMs > unwrittenGraceMs ? { state: 'stale', content } : { state: 'held' }
  } catch (error) {
    if (isMissing(error)) return { state: 'gone' }
    throw error
  }
}

/** The holder's pid now names another process: its start time is not the one the holder wrote (when both are known). */
function reused(pid: number, started: string | undefined): boolean {
  const now = started === undefined ? undefined : processStart(pid)
  return now !== undefined && now !== started
}

/** Removes a stale lock, guarded so that two waiters never both remove (one of them a fresh lock). */
function takeOver(path: string, stale: string): void {
  const guard = `${path}.takeover`
  if (!tryCreate(guard)) {
    // A guard whose taker died is stale too.
    const taken = statSync(guard, { throwIfNoEntry: false })
    if (taken && Date.now() - taken.mtimeMs > unwrittenGraceMs) rmSync(guard, { force: true })
    return
  }
  try {
    const now = holderOf(path)
    if (now.state === 'stale' && now.content === stale) rmSync(path, { force: true })
  } finally {
    rmSync(guard, { force: true })
  }
}

/**
 * Holds the lock for a cluster (waiting up to `timeoutMs` for another command to finish); returns its
 * release. `key` says what the cluster really is (Runtime.lockKey), `name` what it is called in messages.
 */
export async function lockCluster({ key, name: cluster }: { key: string; name: string }, timeoutMs: number, onWait: (line: string) => void = () => {}): Promise<() => void> {
  const path = lockPath(key)
  mkdirSync(dirname(path), { recursive: true })
  const deadline = Date.now() + timeoutMs
  for (let said = false; !tryCreate(path); ) {
    const holder = holderOf(path)
    if (holder.state === 'gone') continue
    if (holder.state === 'stale') {
      takeOver(path, holder.content)
      continue
    }
    const who = holder.pid ? `pid ${holder.pid}` : 'a process just starting'
    if (Date.now() > deadline) {
      throw new StepError(`another command (${who}) is still changing ${cluster} from this machine after ${Math.round(timeoutMs / 1000)} s`, `  - wait for it to finish, or stop it; if no such command runs, remove ${path}`)
    }
    if (!said && holder.pid) {
      onWait(`waiting for another command (${who}) changing ${cluster} from this machine`)
      said = true
    }
    await sleep(200)
  }
  const mine = ownerLine()
  const release = () => {
    try {
      if (readFileSync(path, 'utf8').trim() === mine) rmSync(path, { force: true })
    } catch (error) {
      if (!isMissing(error)) throw error
    }
  }
  const forget = onInterrupt(async () => release())
  return () => {
    forget()
    release()
  }
}
