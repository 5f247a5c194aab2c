// Host-level helpers the CI grounds share: Debian packages, detached daemons, leftover mounts.
import { spawn } from 'node:child_process'
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { $, which } from 'zx'
import { sleep } from '../lib/poll.ts'

export type Log = (line: string) => void

export const sh = $({ quiet: true })
export const isRoot = () => process.getuid?.() === 0

export async function aptInstall(...packages: string[]): Promise<void> {
  if (!isRoot()) throw new Error(`need the Debian packages ${packages.join(' ')}: install them as root (apt-get install -y ${packages.join(' ')})`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  await sh({ env })`apt-get update`
  await sh({ env })`apt-get install -y --no-install-recommends ${packages}`
}

/** Installs the Debian packages whose marker command (or file) is missing. */
export async function ensurePackages(log: Log, wanted: Record<string, string>): Promise<void> {
  const missing: string[] = []
  for (const [pkg, marker] of Object.entries(wanted)) {
    const present = marker.startsWith('/') ? await sh({ nothrow: true })`test -e ${marker}`.then((r) => r.ok) : Boolean(await which(marker, { nothrow: true }))
    if (!present) missing.push(pkg)
  }
  if (missing.length === 0) return
  log(`packages: installing ${missing.join(' ')} from Debian`)
  await aptInstall(...missing)
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export async function tailOf(file: string, lines = 25): Promise<string> {
  return (await readFile(file, 'utf8').catch(() => '')).split('\n').slice(-lines).join('\n')
}

export interface Daemon {
  name: string
  command: string
  args: string[]
  logFile: string
  /** Written when started, so `down` can stop exactly what `up` started. */
  pidFile?: string
  ready: () => Promise<boolean>
  timeoutMs?: number
}

/** Starts a daemon detached from us (it outlives this script) and waits until `ready` says so. */
export async function startDaemon(daemon: Daemon, log: Log): Promise<void> {
  if (await daemon.ready()) return log(`${daemon.name}: already running`)
  await mkdir(dirname(daemon.logFile), { recursive: true })
  const handle = await open(daemon.logFile, 'a')
  const child = spawn(daemon.command, daemon.args, { detached: true, stdio: ['ignore', handle.fd, handle.fd] })
  let exited: number | null | undefined
  child.on('exit', (code) => (exited = code))
  child.on('error', () => (exited = -1))
  child.unref()
  await handle.close()
  if (daemon.pidFile && child.pid) {
    await mkdir(dirname(daemon.pidFile), { recursive: true })
    await writeFile(daemon.pidFile, String(child.pid))
  }
  log(`${daemon.name}: started (log: ${daemon.logFile})`)
  const deadline = Date.now() + (daemon.timeoutMs ?? 60_000)
  while (Date.now() < deadline && exited === undefined) {
    if (await daemon.ready()) return log(`${daemon.name}: ready`)
    await sleep(500)
  }
  const why = exited === undefined ? `not ready within ${Math.round((daemon.timeoutMs ?? 60_000) / 1000)} s` : `exited (code ${exited})`
  throw new Error(`${daemon.name} ${why}; end of ${daemon.logFile}:\n${await tailOf(daemon.logFile)}`)
}

/** Stops the daemon a pid file names (TERM, then KILL after a grace period) and removes the file. */
export async function stopDaemon(pidFile: string, log: Log, graceMs = 10_000): Promise<void> {
  const pid = Number(await readFile(pidFile, 'utf8').catch(() => ''))
  if (pid > 0 && processAlive(pid)) {
    process.kill(pid, 'SIGTERM')
    const deadline = Date.now() + graceMs
    while (processAlive(pid) && Date.now() < deadline) await sleep(200)
    if (processAlive(pid)) process.kill(pid, 'SIGKILL')
    log(`stopped ${pidFile.split('/').pop()?.replace(/\.pid$/, '')}`)
  }
  await rm(pidFile, { force: true })
}

/** Unmounts everything mounted below `dir` (deepest first): a killed runtime can leave mounts behind. */
export async function unmountUnder(dir: string): Promise<void> {
  const points = (await readFile('/proc/mounts', 'utf8').catch(() => ''))
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((point) => point === dir || point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length)
  for (const point of points) await sh({ nothrow: true })`umount -l ${point}`
}
