// npm run history on a cluster whose drivers write no event log: refused in one line, nothing started.
import { describe, expect, it, vi } from 'vitest'
import { parseConfig } from '../../scripts/lib/config.ts'
import { StepError } from '../../scripts/lib/errors.ts'
import { makeTarget } from '../../scripts/lib/target.ts'
import { fake } from './fake-proc.ts'

vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))
const { applyHistory } = await import('../../scripts/history.ts')

const target = makeTarget(parseConfig('history', ['--platform', 'docker'], {}), 'docker')
// docker ps fields: id, name, state, status, image, spec hash, then the labels app, role, shape, auth conf digest, storage.
const master = (storage: string) => ['id1', 'spark-master', 'running', 'Up', 'spark-standalone:4.3.0-py3.11-0123456789ab', 'h', 'spark', 'master', '', '', storage].join('\t')

describe('applyHistory', () => {
  it("refuses a cluster whose drivers write no event log (several nodes, a master from before the record), starting nothing", async () => {
    for (const storage of ['{"eventsOff":true}', '']) {
      fake.reset((command) => (command.line.startsWith('docker ps') ? { stdout: master(storage) } : undefined))
      const error = (await applyHistory(target).catch((e: unknown) => e)) as StepError
      expect(error).toBeInstanceOf(StepError)
      expect(error.message).toBe("this cluster's drivers write no event log (cluster:up said why), so a History Server would have nothing to show")
      expect(fake.lines().some((line) => line.startsWith('docker run'))).toBe(false)
    }
  })
})
