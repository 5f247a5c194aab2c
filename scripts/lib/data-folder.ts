import { closeSync, constants, fchmodSync, fchownSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, realpathSync } from 'node:fs'
import { homedir, userInfo } from 'node:os'
import { dirname, isAbsolute, join, parse, relative, resolve, sep } from 'node:path'
import { StepError } from './errors.ts'
import { eventsDir, notebooksDir } from './storage.ts'

/** What the tool keeps in the data folder: the event logs and JupyterLab's notebooks. */
const ownFolders = [eventsDir, notebooksDir]

const groupRwx = 0o070
const setgid = 0o2000

/**
 * The operating system's own trees, where no data folder goes. /var whole, /var/tmp included: its
 * folders are services' state (/var/lib, /var/log), and a scratch folder in /tmp or your home does
 * the same job without a list of exceptions. /Library, /System and /private/etc are macOS's.
 */
const systemTrees = ['/bin', '/boot', '/dev', '/etc', '/lib', '/lib32', '/lib64', '/libx32', '/proc', '/run', '/sbin', '/sys', '/usr', '/var', '/Library', '/System', '/private/etc', '/private/var']

/** Windows' own trees, where the system says they are (C:\Windows, C:\Program Files, C:\ProgramData). */
const windowsTrees = () => ['SystemRoot', 'ProgramFiles', 'ProgramFiles(x86)', 'ProgramData'].flatMap((name) => process.env[name] ?? [])

/**
 * Shared like a top-level folder: the children of macOS's /private (/tmp is /private/tmp there), and
 * WSL's /mnt/<letter>, a whole Windows drive.
 */
const sharedLikeTopLevel = (path: string) => dirname(path) === '/private' || /^\/mnt\/[a-z]$/.test(path)

/**
 * Why an absolute path may not be the data folder, which every pod writes and the tool makes
 * group-writable for good; undefined when it may. Inside your home is always yours; else not the
 * root, a top-level folder (shared by all: /tmp, /home, /mnt), a folder holding your home, or the system's.
 */
export function dataFolderProblem(path: string): string | undefined {
  const { root } = parse(path)
  if (path === root) return 'the root of the file system'
  const homes = homeFolders()
  if (homes.includes(path)) return 'your home folder itself'
  const holds = homes.find((home) => isWithin(home, path))
  if (holds) return `a folder holding your home folder ${holds}`
  if (homes.some((home) => isWithin(path, home))) return undefined
  if (dirname(path) === root || sharedLikeTopLevel(path)) return 'a top-level folder'
  const tree = [...systemTrees, ...windowsTrees()].find((folder) => isWithin(path, folder))
  return tree && `inside the system's ${tree}`
}

/** $HOME (what os.homedir() reads first) and the account's own home, as given and as the real folder. */
function homeFolders(): string[] {
  const given = [homedir()]
  try {
    given.push(userInfo().homedir)
  } catch {
    // A uid without an account (some containers): $HOME is all there is.
  }
  const real = given.flatMap((home) => {
    try {
      return [realpathSync(home)]
    } catch {
      return []
    }
  })
  // A home of / (some service accounts) would make every folder one's own: it counts for nothing.
  return [...new Set([...given, ...real].filter(Boolean).map((home) => resolve(home)))].filter((home) => home !== parse(home).root)
}

/** Whether path is folder or inside it. */
function isWithin(path: string, folder: string): boolean {
  const rel = relative(folder, path)
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel))
}

/**
 * A folder of this machine made writable by the pods' Spark user (uid 185, group 0) without opening
 * it to other users, with spark-events/ (the event logs) and notebooks/ made inside. Returns the groups the pods
 * join. macOS and Windows: nothing to change (Docker Desktop's file sharing writes as the folder's
 * owner). Linux: the pods join the folder's group, which gets rwx with setgid (new files keep the
 * group) when it is its owner's private group (or root's, for a folder of root's); a folder its
 * owner already opened to its group (chmod g+rwx, or setfacl, whose mask shows as the group's bits)
 * is taken as it is; any other is refused, with what to run.
 * Nothing here follows a symlink: a member of a shared folder's group could point spark-events or notebooks at a
 * folder of whoever runs this. Both folders are opened without following one, and changed through
 * the opened descriptor, so a link swapped in after the check changes nothing.
 */
export function prepareHostFolder(dir: string, platform: NodeJS.Platform = process.platform): number[] {
  const children = ownFolders.map((child) => join(dir, child))
  if (platform !== 'linux') {
    requireNoLink(dir, dir)
    for (const child of children) {
      requireNoLink(dir, child)
      makeFolder(dir, child)
    }
    return []
  }
  const folder = openFolder(dir, dir)
  try {
    const { gid, uid, mode } = fstatSync(folder)
    const opened = (mode & groupRwx) === groupRwx
    if (!opened && !privateGroup(gid, uid)) {
      throw new StepError(
        `--data ${dir}: its group (gid ${gid}) is not yours alone, so the tool will not make the folder writable to it`,
        `  - let only the Spark user in (uid 185): setfacl -m u:185:rwx,d:u:185:rwx ${dir}\n  - or open it to that group yourself, if its members may write it: chmod g+rwxs ${dir}`,
      )
    }
    // The folder first: with setgid, the spark-events/ made in it takes its group.
    if (!opened) grant(dir, folder, dir, mode | groupRwx | setgid)
    for (const child of children) {
      requireNoLink(dir, child)
      makeFolder(dir, child)
      const made = openFolder(dir, child)
      try {
        const { gid: madeGid, uid: madeUid, mode: madeMode } = fstatSync(made)
        if (madeGid !== gid) {
          try {
            fchownSync(made, madeUid, gid)
          } catch (error) {
            throw new StepError(`--data ${dir}: ${child} is not of the folder's group (gid ${gid}) and cannot be given to it (${describe(error)})`, `  - chgrp ${gid} ${child}, then run this again`)
          }
        }
        if ((madeMode & groupRwx) !== groupRwx) grant(dir, made, child, madeMode | groupRwx | setgid)
      } finally {
        closeSync(made)
      }
    }
    return gid === 0 ? [] : [gid]
  } finally {
    closeSync(folder)
  }
}

/** The folder at path, opened read-only for its descriptor; refused when path is a symlink or not a folder. */
function openFolder(dir: string, path: string): number {
  try {
    return openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW)
  } catch (error) {
    // A symlink opened with O_NOFOLLOW | O_DIRECTORY fails with ENOTDIR (or ELOOP): say which it is.
    requireNoLink(dir, path)
    throw new StepError(`--data ${dir}: cannot open ${path} (${describe(error)})`)
  }
}

/** Refuses a path that is there as anything but a folder (a symlink above all); a missing one passes. */
function requireNoLink(dir: string, path: string): void {
  let found
  try {
    found = lstatSync(path)
  } catch {
    return
  }
  if (found.isDirectory()) return
  if (found.isSymbolicLink()) {
    throw new StepError(
      `--data ${dir}: ${path} is a symlink, and the tool changes no folder it reaches through one`,
      path === dir ? `  - pass the folder it points to (readlink -f ${dir} names it)` : `  - remove the link (rm ${path}), then run this again: the tool makes a folder there`,
    )
  }
  throw new StepError(`--data ${dir}: ${path} is a file, not a folder`, `  - move it away (mv ${path} ${path}.old), then run this again: the tool makes a folder there`)
}

function grant(dir: string, folder: number, path: string, mode: number): void {
  try {
    fchmodSync(folder, mode & 0o7777)
  } catch (error) {
    throw new StepError(`--data ${dir}: cannot let the cluster write ${path} (${describe(error)})`, `  - make it group-writable yourself: chmod g+rwxs ${path}\n  - or pass a folder you own`)
  }
}

/** spark-events/ or notebooks/ made when missing, by itself: the folder it goes in is there (cluster:up checked it). */
function makeFolder(dir: string, child: string): void {
  try {
    mkdirSync(child)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return
    throw new StepError(`--data ${dir}: cannot make ${child} (${describe(error)})`)
  }
}

const describe = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOTDIR' || code === 'ELOOP') return 'it is no folder now: a link or a file took its place'
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
