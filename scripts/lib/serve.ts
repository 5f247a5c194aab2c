// Serving a local URL (a UI, Spark Connect) on any runtime: until stopped when this process holds
// it (a port-forward), at once when Docker publishes it.
import { errorMessage, StepError } from './errors.ts'
import { untilStopped } from './interrupt.ts'
import type { Forwarding } from './master-ui.ts'

/** Serves a forward until Ctrl-C, SIGTERM or SIGHUP, the normal end of `ui`, `history` and `connect` (exit 0); a URL Docker publishes needs no serving. */
export async function serveUntilStopped(forwarding: Forwarding): Promise<number> {
  if (!forwarding.keepsRunning) return 0
  await untilStopped()
  await forwarding.close()
  return 0
}

/**
 * A forward on the port asked for; with none asked for, on the default port, or any free one when
 * that is taken (a second `npm run ui`, say).
 */
export async function forwardWithFallback(forward: (localPort: number) => Promise<Forwarding>, requested: number | undefined, preferred: number): Promise<Forwarding> {
  try {
    return await forward(requested ?? preferred)
  } catch (error) {
    if ((error as { code?: string }).code !== 'EADDRINUSE') throw error
    if (requested === undefined) return forward(0)
    throw new StepError(`--port ${requested} is in use on this machine (${errorMessage(error)}): pass another --port, or --port 0 for any free one`)
  }
}
