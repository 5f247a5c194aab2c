import type { Forwarding } from './master-ui.ts'
import type { StepOutcome } from './outcome.ts'
import type { Target } from './target.ts'

/**
 * The cluster's Spark Connect server, one home per runtime: a Deployment + ClusterIP Service reached
 * by port-forward on Kubernetes, a container published on loopback on Docker.
 */
export interface ConnectServer {
  /** Creates or updates the server to run the cluster's image with its conf (restarted when that changed); leaves a matching one alone. */
  apply(image: string, authConf: string): Promise<StepOutcome>
  /** Until the server accepts connections (its readiness probe; Docker's health check). */
  waitReady(onProgress?: (reason: string) => void): Promise<string>
  /** The cluster's spark-defaults.conf, which holds the token clients must send (undefined: there is none). */
  authConf(image: string): Promise<string | undefined>
  /** sc://localhost:<port> on this machine (port undefined: 15002, or any free one when taken). */
  reach(port: number | undefined): Promise<Forwarding>
}

export function connectServer(target: Target): ConnectServer {
  return target.runtime.connectServer()
}
