import type { Forwarding } from './master-ui.ts'
import type { ServerManifests } from './manifests.ts'
import type { StepOutcome } from './outcome.ts'

/**
 * A long-running server of the cluster's (the Spark Connect server, the History Server), one home
 * per runtime: a Deployment + ClusterIP Service reached by port-forward on Kubernetes, a container
 * published on loopback on Docker.
 */
export interface ClusterServer {
  /** Creates or updates it to run this rendered Deployment (restarted when it changed); leaves a matching one alone. */
  apply(rendered: ServerManifests): Promise<StepOutcome>
  /** Until it accepts connections (its readiness probe; Docker's health check). */
  waitReady(onProgress?: (reason: string) => void): Promise<string>
  /** <scheme>://localhost:<port> on this machine (port undefined: the server's own, or any free one when taken). */
  reach(port: number | undefined): Promise<Forwarding>
}

export interface ServerSpec {
  manifests: ServerManifests
  /** For messages: "Spark Connect server", "History Server". */
  what: string
  /** The URL's scheme: sc for Spark Connect, http for a UI. */
  scheme: string
}
