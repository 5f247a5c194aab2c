// scripts/ci/runtime/runc-bounded, the runc wrapper the CI grounds use where root lacks capabilities:
// run for real (bash, jq, capsh) in front of a stand-in runc that records what it was handed.
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { $ } from 'zx'
import { repoRoot } from '../../scripts/lib/paths.ts'

const wrapper = join(repoRoot, 'scripts/ci/runtime/runc-bounded')
const status = readFileSync('/proc/self/status', 'utf8')
const lastCap = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'))
const bounding = BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)/m.exec(status)![1]}`)
const missingMask = ((1n << BigInt(lastCap + 1)) - 1n) & ~bounding
const holdsAll = missingMask === 0n
// The first capability root lacks here (CAP_SYS_RESOURCE on this CI machine), by capsh's name for it.
const missing = holdsAll ? undefined : execFileSync('capsh', [`--decode=${missingMask.toString(16)}`], { encoding: 'utf8' }).trim().replace(/^.*=/, '').split(',')[0].toUpperCase()
const ownOomScoreAdj = Number(readFileSync('/proc/self/oom_score_adj', 'utf8'))

function fakeRunc(dir: string): string {
  const path = join(dir, 'runc')
  // Records its arguments and the spec file it would read, then exits 0 like runc.
  writeFileSync(path, `#!/bin/bash\nprintf '%s\\n' "$@" > ${join(dir, 'args')}\nfor a in "$@"; do [[ -f "$a/config.json" ]] && cp "$a/config.json" ${join(dir, 'seen.json')}; [[ "$a" == *.process.json ]] && cp "$a" ${join(dir, 'seen.json')}; done\nexit 0\n`)
  chmodSync(path, 0o755)
  return path
}

const capabilities = ['CAP_CHOWN', 'CAP_KILL', missing ?? 'CAP_SYS_RESOURCE']
const held = ['CAP_CHOWN', 'CAP_KILL']
const capabilitySets = { bounding: capabilities, effective: capabilities, permitted: capabilities }

async function runWrapper(dir: string, args: string[]) {
  const result = await $({ quiet: true, nothrow: true, env: { ...process.env, REAL_RUNC: fakeRunc(dir) } })`${wrapper} ${args}`
  return { exitCode: result.exitCode, stderr: result.stderr, args: readFileSync(join(dir, 'args'), 'utf8').trim().split('\n'), seen: JSON.parse(readFileSync(join(dir, 'seen.json'), 'utf8')) }
}

const dirs: string[] = []
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'runc-bounded-'))
  dirs.push(dir)
  return dir
}

describe.runIf(process.platform === 'linux')('runc-bounded', () => {
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

  it('create: hands runc the same arguments and a spec without what root cannot grant, oom_score_adj no lower than its own', async () => {
    const dir = tempDir()
    const bundle = join(dir, 'bundle')
    await $`mkdir -p ${bundle}`
    writeFileSync(join(bundle, 'config.json'), JSON.stringify({ ociVersion: '1.0.2', process: { args: ['/pause'], capabilities: capabilitySets, oomScoreAdj: -998 } }))
    const args = ['--root', '/run/x', 'create', '--bundle', bundle, '--pid-file', join(dir, 'pid'), 'c1']
    const result = await runWrapper(dir, args)
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.args).toEqual(args)
    if (holdsAll) {
      // Nothing to bound: the spec reaches runc untouched.
      expect(result.seen.process).toEqual({ args: ['/pause'], capabilities: capabilitySets, oomScoreAdj: -998 })
    } else {
      expect(result.seen.process.capabilities).toEqual({ bounding: held, effective: held, permitted: held })
      expect(result.seen.process.oomScoreAdj).toBe(Math.max(-998, ownOomScoreAdj))
      expect(result.seen.process.args).toEqual(['/pause'])
    }
  })

  it('exec --process: the process file is bounded the same way', async () => {
    const dir = tempDir()
    const processFile = join(dir, 'exec.process.json')
    writeFileSync(processFile, JSON.stringify({ args: ['sh'], capabilities: capabilitySets }))
    const result = await runWrapper(dir, ['exec', '--process', processFile, '--detach', 'c1'])
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.seen.capabilities.bounding).toEqual(holdsAll ? capabilities : held)
    expect(result.seen.args).toEqual(['sh'])
  })
})
