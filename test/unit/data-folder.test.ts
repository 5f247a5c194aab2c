// The host folder's changes go through descriptors opened without following a link, so a symlink
// swapped in after the check (a race a member of the folder's group can try) changes nothing: here
// the check is made to miss the link, as if it had been put there a moment after.
import { existsSync, mkdtempSync, statSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { prepareHostFolder } from '../../scripts/lib/data-folder.ts'
import { StepError } from '../../scripts/lib/errors.ts'

const late = vi.hoisted(() => ({ links: new Set<string>() }))
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>()
  // lstat sees the links in late.links as the folder they point to: each was swapped in just after the look.
  const lstatSync = ((path: string, options?: object) => (late.links.has(path) ? fs.statSync(path) : fs.lstatSync(path, options as never))) as typeof fs.lstatSync
  return { ...fs, default: { ...fs, lstatSync }, lstatSync }
})

describe('prepareHostFolder against a link swapped in after its check', () => {
  it('refuses, and the folder the link points to keeps its mode, owner and contents', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-'))
    const target = mkdtempSync(join(tmpdir(), 'not-data-'))
    const look = () => {
      const { mode, uid, gid } = statSync(target)
      return { mode, uid, gid, events: existsSync(join(target, 'spark-events')) }
    }
    const before = look()
    const events = join(dir, 'spark-events')
    symlinkSync(target, events)
    late.links.add(events)
    expect(() => prepareHostFolder(dir, 'linux')).toThrow(new StepError(`--data ${dir}: cannot open ${events} (it is no folder now: a link or a file took its place)`))
    expect(look()).toEqual(before)
    // The data folder itself, swapped for a link: nothing changes where it points either.
    const link = join(mkdtempSync(join(tmpdir(), 'lake-')), 'link')
    symlinkSync(target, link)
    late.links.add(link)
    expect(() => prepareHostFolder(link, 'linux')).toThrow(new StepError(`--data ${link}: cannot open ${link} (it is no folder now: a link or a file took its place)`))
    expect(look()).toEqual(before)
  })
})
