/** Work to undo on Ctrl-C (a half-run Pi driver, say), so the next run starts clean. */
const cleanups = new Set<() => Promise<unknown>>()

export function onInterrupt(cleanup: () => Promise<unknown>): () => void {
  cleanups.add(cleanup)
  return () => cleanups.delete(cleanup)
}

export function installInterruptHandler(): void {
  process.once('SIGINT', () => {
    console.error('\ninterrupted: cleaning up, then exiting (running the command again converges)')
    void Promise.allSettled([...cleanups].map((cleanup) => cleanup())).then(() => process.exit(130))
  })
}
