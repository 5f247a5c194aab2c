import { chmodSync, chownSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { StepError } from './errors.ts'
import { eventsDir } from './storage.ts'

const groupRwx = 0o070
const setgid = 0o2000

/**
 * A folder of this machine made writable by the pods' Spark user (uid 185, group 0) without opening
 * it to other users, with spark-events/ made inside for the event logs. Returns the groups the pods
 * join. macOS and Windows: nothing to change (Docker Desktop's file sharing writes as the folder's
 * owner). Linux: the pods join the folder's group, which gets rwx with setgid (new files keep the
 * group) when it is its owner's private group (or root's, for a folder of root's); a folder its
 * owner already opened to its group (chmod g+rwx, or setfacl, whose mask shows as the group's bits)
 * is taken as it is; any other is refused, with what to run.
 */
export function prepareHostFolder(dir: string, platform: NodeJS.Platform = process.platform): number[] {
  const events = join(dir, eventsDir)
  if (platform !== 'linux') {
    makeFolder(dir, events)
    return []
  }
  const { gid, uid, mode } = statSync(dir)
  const opened = (mode & groupRwx) === groupRwx
  if (!opened && !privateGroup(gid, uid)) {
    throw new StepError(
      `--data ${dir}: its group (gid ${gid}) is not yours alone, so the tool will not make the folder writable to it`,
      `  - let only the Spark user in (uid 185): setfacl -m u:185:rwx,d:u:185:rwx ${dir}\n  - or open it to that group yourself, if its members may write it: chmod g+rwxs ${dir}`,
    )
  }
  // The folder first: with setgid, the spark-events/ made in it takes its group.
  if (!opened) grant(dir, dir, mode | groupRwx | setgid)
  makeFolder(dir, events)
  const made = statSync(events)
  if (made.gid !== gid) {
    try {
      chownSync(events, made.uid, gid)
    } catch (error) {
      throw new StepError(`--data ${dir}: ${events} is not of the folder's group (gid ${gid}) and cannot be given to it (${describe(error)})`, `  - chgrp ${gid} ${events}, then run this again`)
    }
  }
  if ((made.mode & groupRwx) !== groupRwx) grant(dir, events, made.mode | groupRwx | setgid)
  return gid === 0 ? [] : [gid]
}

function grant(dir: string, path: string, mode: number): void {
  try {
    chmodSync(path, mode & 0o7777)
  } catch (error) {
    throw new StepError(`--data ${dir}: cannot let the cluster write ${path} (${describe(error)})`, `  - make it group-writable yourself: chmod g+rwxs ${path}\n  - or pass a folder you own`)
  }
}

function makeFolder(dir: string, events: string): void {
  try {
    mkdirSync(events, { recursive: true })
  } catch (error) {
    throw new StepError(`--data ${dir}: cannot make ${events} for the event logs (${describe(error)})`)
  }
}

const describe = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException).code
  return code === 'EPERM' || code === 'EACCES' ? 'it is not yours' : code === 'EROFS' ? 'it is on a read-only file system' : (code ?? String(error))
}

/**
 * Positive evidence that only the owner is in the group: root's group for a folder of root's, or
 * the owner's own primary group of the same name that no /etc/group entry lists anyone else in.
 * Anything unknown (a directory-service user or group) counts as shared.
 */
function privateGroup(gid: number, owner: number): boolean {
  const read = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => line.split(':'))
  try {
    const user = read('/etc/passwd').find((fields) => Number(fields[2]) === owner)
    if (!user || Number(user[3]) !== gid) return false
    if (gid === 0) return owner === 0
    const entries = read('/etc/group').filter((fields) => Number(fields[2]) === gid)
    const others = read('/etc/passwd').filter((fields) => Number(fields[3]) === gid && fields[0] !== user[0])
    return entries.length > 0 && entries.every((fields) => fields[0] === user[0] && (fields[3] ?? '').split(',').every((name) => name === '' || name === user[0])) && others.length === 0
  } catch {
    return false
  }
}
