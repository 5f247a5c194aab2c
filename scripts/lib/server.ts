import { authConfAnnotation, authConfProblem } from './cluster-secret.ts'
import { StepError } from './errors.ts'
import type { Forwarding } from './master-ui.ts'
import { podTemplate, type ServerManifests } from './manifests.ts'
import type { StepOutcome } from './outcome.ts'
import { storageAnnotation } from './storage.ts'

/**
 * A long-running server of the cluster's (the Spark Connect server, the History Server), one home
 * per runtime: a Deployment + ClusterIP Service reached by port-forward on Kubernetes, a container
 * published on loopback on Docker.
 */
export interface ClusterServer {
  /** For messages: "Spark Connect server", "History Server". */
  readonly what: string
  /** What runs now (its image and pod template annotations; labels on Docker), or undefined when it does not run. */
  running(): Promise<RunningServer | undefined>
  /** Creates or updates it to run this rendered Deployment (restarted when it changed); leaves a matching one alone. */
  apply(rendered: ServerManifests): Promise<StepOutcome>
  /** Until it accepts connections (its readiness probe; Docker's health check). */
  waitReady(onProgress?: (reason: string) => void): Promise<string>
  /** <scheme>://localhost:<port> on this machine (port undefined: the server's own, or any free one when taken). */
  reach(port: number | undefined): Promise<Forwarding>
}

export interface RunningServer {
  image: string
  annotations: Record<string, string>
}

export interface ServerSpec {
  manifests: ServerManifests
  /** For messages: "Spark Connect server", "History Server". */
  what: string
  /** The URL's scheme: sc for Spark Connect, http for a UI. */
  scheme: string
}

/**
 * What a roll of a running server changes, in words ("image", "conf", "mounts"): its image, the
 * digest of the conf it started with (the secret, the token, the S3 keys), the storage it mounts.
 */
export function rollReasons(live: RunningServer, rendered: ServerManifests): string[] {
  const template = podTemplate(rendered.deployment)
  const wanted = template.metadata?.annotations ?? {}
  return [
    live.image !== template.spec!.containers[0].image ? 'image' : '',
    live.annotations[authConfAnnotation] !== wanted[authConfAnnotation] ? 'conf' : '',
    live.annotations[storageAnnotation] !== wanted[storageAnnotation] ? 'mounts' : '',
  ].filter(Boolean)
}

/** "Spark Connect server rolled: image and conf changed"; what apply said when none of those changed (the manifest did). */
export function describeRoll(what: string, reasons: string[], applied: string): string {
  if (reasons.length === 0) return `${what} rolled: ${applied}`
  return `${what} rolled: ${[reasons.slice(0, -1).join(', '), reasons.at(-1)].filter(Boolean).join(' and ')} changed`
}

/** How a server that admits its clients by a token of the cluster's conf is named in its refusals. */
export interface TokenServer {
  /** "the server", "JupyterLab": what is not started. */
  server: string
  /** "Spark Connect and holds no client token": what a conf from before it lacks. */
  lacks: string
  /** "the RPC secret stays": what cluster:up keeps while adding the token. */
  kept: string
  /** "connect", "notebook": the npm script to run again. */
  command: string
}

/**
 * Why the server may not start on the cluster's conf (undefined: it may): a conf without
 * authentication, or without the server's token, would leave it open to anyone who reaches it.
 */
export function tokenConfProblem(conf: string | undefined, tokenOf: (conf: string) => string | undefined, words: TokenServer): StepError | undefined {
  const problem = authConfProblem(conf)
  if (problem || conf === undefined) return new StepError(`the cluster's secret cannot be used (${problem}): ${words.server} is not started`, `  - npm run cluster:up repairs it, then npm run ${words.command}`)
  if (tokenOf(conf)) return undefined
  return new StepError(`the cluster's secret predates ${words.lacks}: ${words.server} is not started`, `  - npm run cluster:up adds one (${words.kept}), then npm run ${words.command}`)
}
