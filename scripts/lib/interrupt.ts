/** Work to undo on Ctrl-C (a half-run Pi driver, say), so the next run starts clean. */
const cleanups = new Set<() => Promise<unknown>>()

export function onInterrupt(cleanup: () => Promise<unknown>): () => void {
  cleanups.add(cleanup)
  return () => cleanups.delete(cleanup)
}

let cleaningUp: Promise<unknown> | undefined

export function installInterruptHandler(): void {
  process.once('SIGINT', () => {
    console.error('\ninterrupted: cleaning up, then exiting (running the command again converges)')
    cleaningUp = Promise.allSettled([...cleanups].map((cleanup) => cleanup()))
    void cleaningUp.then(() => process.exit(130))
  })
}

/** After Ctrl-C: resolves once the cleanups ran (a step failing because of the interrupt is no news). */
export function interruption(): Promise<unknown> | undefined {
  return cleaningUp
}
