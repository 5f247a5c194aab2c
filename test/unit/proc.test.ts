// pipeline(): two real processes, the first's stdout into the second's stdin, with each side's
// failure named by its own stderr.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { pipeline } from '../../scripts/lib/proc.ts'

const dir = mkdtempSync(join(tmpdir(), 'pipeline-'))
const sh = (script: string) => ['sh', '-c', script]

describe('pipeline', () => {
  it('carries every byte from the source to the sink', async () => {
    const out = join(dir, 'count')
    await pipeline(sh('head -c 20000000 /dev/zero'), sh(`wc -c > ${out}`))
    expect(readFileSync(out, 'utf8').trim()).toBe('20000000')
  })

  it('names a failing source by its last stderr line', async () => {
    await expect(pipeline(sh('echo starting >&2; echo "No such image: x:1" >&2; exit 1'), sh('cat > /dev/null'))).rejects.toThrow('`sh -c echo starting >&2; echo "No such image: x:1" >&2; exit 1` failed: No such image: x:1')
  })

  it('names the sink when it stops reading, not the source it cut off', async () => {
    await expect(pipeline(sh('head -c 200000000 /dev/zero'), sh('head -c 10 > /dev/null; echo "ctr: unpack failed" >&2; exit 3'))).rejects.toThrow('`sh -c head -c 10 > /dev/null; echo "ctr: unpack failed" >&2; exit 3` failed: ctr: unpack failed')
  })

  it('ends a source that catches SIGTERM and is blocked writing (as docker save does) once the sink has exited unread', async () => {
    await expect(pipeline(sh("trap '' TERM; exec yes"), sh('echo "ctr: connection refused" >&2; exit 1'))).rejects.toThrow('`sh -c echo "ctr: connection refused" >&2; exit 1` failed: ctr: connection refused')
  }, 15_000)

  it('names a program that is not there', async () => {
    await expect(pipeline(['no-such-program-here'], sh('cat'))).rejects.toThrow(/^`no-such-program-here` failed: spawn no-such-program-here ENOENT/)
  })
})
