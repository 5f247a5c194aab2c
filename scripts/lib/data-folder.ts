import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { StepError } from './errors.ts'
import { eventsDir } from './storage.ts'

const groupWritable = 0o2070

/**
 * A folder of this machine made writable by the pods' Spark user (uid 185, group 0) without opening
 * it to other users, with spark-events/ made inside for the event logs. Returns the groups the pods
 * join. macOS and Windows: nothing to do (Docker Desktop's file sharing writes as the folder's
 * owner). Linux: the folder's group is given rwx with setgid (new files keep the group) and the pods
 * join it, but only when that group is its owner's alone (a private group, as Debian and Fedora
 * give every user) or root's; a shared group (users, staff) is refused, with what to run instead.
 */
export function prepareHostFolder(dir: string, platform: NodeJS.Platform = process.platform): number[] {
  const events = join(dir, eventsDir)
  if (platform !== 'linux') {
    makeFolder(dir, events)
    return []
  }
  const { gid, uid, mode } = statSync(dir)
  if ((mode & groupWritable) !== groupWritable && !privateGroup(gid, uid)) {
    throw new StepError(
      `--data ${dir}: its group (gid ${gid}) has other members, so the tool will not make the folder writable to it`,
      `  - let only the Spark user in (uid 185): setfacl -m u:185:rwx,d:u:185:rwx ${dir}\n  - or make it writable to that group yourself, if they may: chmod g+rwxs ${dir}`,
    )
  }
  makeFolder(dir, events)
  for (const path of [dir, events]) {
    const current = statSync(path).mode
    if ((current & groupWritable) === groupWritable) continue
    try {
      chmodSync(path, (current & 0o7777) | groupWritable)
    } catch (error) {
      throw new StepError(`--data ${dir}: cannot let the cluster write ${path} (${describe(error)})`, `  - make it group-writable yourself: chmod g+rwxs ${path}\n  - or pass a folder you own`)
    }
  }
  return gid === 0 ? [] : [gid]
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

/** Root's group, or a group whose only user is the folder's owner (its primary group, with no other members listed). */
function privateGroup(gid: number, owner: number): boolean {
  if (gid === 0) return true
  const read = (file: string) => readFileSync(file, 'utf8').split('\n').map((line) => line.split(':'))
  try {
    const group = read('/etc/group').find((fields) => Number(fields[2]) === gid)
    if (!group) return false // a group from a directory service: whom it holds is not known here
    const users = read('/etc/passwd').filter((fields) => fields.length > 3)
    const members = new Set([...(group[3]?.split(',').filter(Boolean) ?? []), ...users.filter((fields) => Number(fields[3]) === gid).map((fields) => fields[0])])
    const ownerName = users.find((fields) => Number(fields[2]) === owner)?.[0]
    return [...members].every((name) => name === ownerName)
  } catch {
    return false // no /etc/group to tell: take it as shared
  }
}
