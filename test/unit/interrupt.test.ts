// Every way to stop a command cleans up the same way: Ctrl-C, a CI cancel (SIGTERM), a closed terminal (SIGHUP).
import { afterEach, describe, expect, it, vi } from 'vitest'

const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

afterEach(() => {
  vi.restoreAllMocks()
  vi.resetModules()
  for (const signal of signals) process.removeAllListeners(signal)
})

describe('installInterruptHandler', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('%s runs the registered cleanups, then exits %i', async (signal, code) => {
    const { installInterruptHandler, interruption, onInterrupt } = await import('../../scripts/lib/interrupt.ts')
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never)
    vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const removed: string[] = []
    onInterrupt(async () => void removed.push('driver'))
    const forget = onInterrupt(async () => void removed.push('already finished'))
    forget()
    installInterruptHandler()
    expect(interruption()).toBeUndefined()
    process.emit(signal)
    expect(await interruption()).toBe(code)
    expect(removed).toEqual(['driver'])
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(code))
  })

  it('a second signal while cleaning up does not start the cleanups again', async () => {
    const { installInterruptHandler, interruption, onInterrupt } = await import('../../scripts/lib/interrupt.ts')
    vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never)
    vi.spyOn(console, 'error').mockImplementation(() => undefined)
    let runs = 0
    onInterrupt(async () => void runs++)
    installInterruptHandler()
    process.emit('SIGTERM')
    process.emit('SIGINT')
    expect(await interruption()).toBe(143)
    expect(runs).toBe(1)
  })
})
