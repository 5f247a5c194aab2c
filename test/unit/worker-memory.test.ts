import { describe, expect, it } from 'vitest'
import { jvmOverheadMiB, workerContainerMiB } from '../../scripts/lib/worker-memory.ts'

describe('jvmOverheadMiB (Spark\'s executor overhead rule)', () => {
  it('is 384 MiB up to a 3840 MiB heap, then 10% rounded up', () => {
    expect(jvmOverheadMiB(512)).toBe(384)
    expect(jvmOverheadMiB(3840)).toBe(384)
    expect(jvmOverheadMiB(4096)).toBe(410)
    expect(jvmOverheadMiB(10_000)).toBe(1000)
  })
})

describe('workerContainerMiB', () => {
  it('one core: the executor heap, its overhead, the daemon heap and its overhead', () => {
    expect(workerContainerMiB({ executorsMiB: 1024, cores: 1, daemonMiB: 512 })).toBe(1024 + 384 + 512 + 384)
  })

  it('holds the worst split of the memory over the cores: one big executor and a small one on every other core', () => {
    const worker = { executorsMiB: 8192, cores: 4, daemonMiB: 1024 }
    const daemon = 1024 + 384
    // every split of 8192 MiB over at most 4 executors needs no more overhead than the formula gives
    const splits = [[8192], [2048, 2048, 2048, 2048], [7000, 450, 450, 292], [4096, 4096], [6000, 2192]]
    for (const heaps of splits) {
      const needed = heaps.reduce((sum, heap) => sum + heap + jvmOverheadMiB(heap), 0) + daemon
      expect(workerContainerMiB(worker)).toBeGreaterThanOrEqual(needed)
    }
    // and the worst one needs all of it
    expect(workerContainerMiB(worker)).toBe(8192 + 820 + 3 * 384 + daemon)
  })
})
