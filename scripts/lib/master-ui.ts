import type { MasterState } from './spark-ui.ts'
import type { Target } from './target.ts'

/** A local URL serving the master UI, and how to stop serving it. */
export interface Forwarding {
  url: string
  /** What serves it, for the message ("published by Docker", "port-forward to pod …"). */
  how: string
  /** Whether this process must keep running to serve it (a port-forward), or the URL answers without it (Docker's published port). */
  keepsRunning: boolean
  close(): Promise<void>
}

/**
 * The master web UI, reached the way that works on each runtime: on Kubernetes through the API
 * server (the Service proxy and port-forward need only what kubectl needs), on Docker through the
 * port published on loopback.
 */
export interface MasterUi {
  /** How /json/ is read, for messages. */
  via: string
  readState(): Promise<MasterState>
  /** A GET of a path the master UI serves, as text: its reverse proxy reaches each running driver's UI (/proxy/<app id>/…). */
  get(path: string, timeoutMs?: number): Promise<string>
  /** A URL a browser on this machine can open right now, or a hint for getting one. */
  link(): Promise<{ url: string } | { hint: string }>
  /** npm run ui: serve the UI at http://localhost:<port> (0 = any free port). */
  forward(port: number): Promise<Forwarding>
}

export function masterUi(target: Target): MasterUi {
  return target.runtime.masterUi()
}
