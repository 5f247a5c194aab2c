import { chmodSync, mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { StepError } from './errors.ts'
import { eventsDir } from './storage.ts'

/**
 * A folder of this machine made writable by the pods' Spark user (uid 185, group 0) without opening
 * it to other users: group-writable with setgid (new files and folders keep its group), and the
 * pods join that group. spark-events/ is made inside for the event logs. Returns the groups the
 * pods join (none when the folder's group is root's, which they are in already).
 */
export function prepareHostFolder(dir: string): number[] {
  const groupWritable = 0o2070
  for (const path of [dir, join(dir, eventsDir)]) {
    mkdirSync(path, { recursive: true })
    const { mode } = statSync(path)
    if ((mode & groupWritable) === groupWritable) continue
    try {
      chmodSync(path, (mode & 0o7777) | groupWritable)
    } catch (error) {
      throw new StepError(
        `--data ${dir}: cannot let the cluster write ${path} (${(error as NodeJS.ErrnoException).code}): it is not yours`,
        `  - make it group-writable yourself: chmod g+rwxs ${path}\n  - or pass a folder you own`,
      )
    }
  }
  const { gid } = statSync(dir)
  return gid === 0 ? [] : [gid]
}
