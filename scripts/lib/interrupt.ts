/** Work to undo when the command is stopped (a half-run Pi driver, say), so the next run starts clean. */
const cleanups = new Set<() => Promise<unknown>>()

export function onInterrupt(cleanup: () => Promise<unknown>): () => void {
  cleanups.add(cleanup)
  return () => cleanups.delete(cleanup)
}

/** Ctrl-C, a CI cancel (SIGTERM) and a closed terminal (SIGHUP) all stop the same way; exit 128 + the signal's number. */
const stopSignals = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const

let stopping: { signal: NodeJS.Signals; cleaned: Promise<unknown> } | undefined
/** Set once a command has done its work and only serves (a port-forward): then a stop signal is its normal end. */
let serving = false

export function installInterruptHandler(): void {
  for (const [signal, number] of Object.entries(stopSignals) as Array<[NodeJS.Signals, number]>) {
    process.once(signal, () => {
      if (stopping || serving) return
      console.error(`\n${signal === 'SIGINT' ? 'interrupted' : `stopped by ${signal}`}: cleaning up, then exiting (running the command again converges)`)
      stopping = { signal, cleaned: Promise.allSettled([...cleanups].map((cleanup) => cleanup())) }
      void stopping.cleaned.then(() => process.exit(128 + number))
    })
  }
}

/** Once stopped by a signal: the exit code, resolved when the cleanups ran (a step failing because of the stop is no news). */
export function interruption(): Promise<number> | undefined {
  return stopping?.cleaned.then(() => 128 + stopSignals[stopping!.signal as keyof typeof stopSignals])
}

/** For commands that serve until stopped (npm run ui, npm run connect): resolves on Ctrl-C, SIGTERM or SIGHUP, which then exit 0. */
export function untilStopped(): Promise<void> {
  serving = true
  return new Promise<void>((resolve) => {
    for (const signal of Object.keys(stopSignals)) process.once(signal, () => resolve())
  })
}
