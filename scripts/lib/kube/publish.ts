import type { Config, Platform } from '../config.ts'
import { localImageId } from '../docker/containers.ts'
import { StepError } from '../errors.ts'
import { withNote, type StepOutcome } from '../outcome.ts'
import { run } from '../proc.ts'
import { loadIntoMinikube } from './minikube-image.ts'
import type { PodImage } from './pod-image.ts'

/** The image made visible to the cluster, and how its pods name it. */
export type PublishedToPods = StepOutcome & { pod: PodImage }

/** The manifest digest `docker push` reports for what it pushed (its last line: `<tag>: digest: sha256:… size: N`). */
export function pushedDigest(output: string): string | undefined {
  return /: digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(output)?.[1]
}

/**
 * Always pushed, and deployed by the digest this push reports: the tag is predictable (a hash of
 * docker/ and the build args), so in a shared registry it may already hold someone else's image,
 * and it can be moved after the push. `name:tag@sha256:…` keeps the tag readable; Kubernetes pulls
 * the digest. Layers the registry has are not sent again, so an unchanged image costs a round trip.
 */
async function pushToRegistry(reference: string): Promise<PublishedToPods> {
  const pushed = await run`docker push ${reference}`
  const digest = pushedDigest(pushed.stdout)
  if (!digest) throw new StepError(`docker push ${reference} reported no digest: the image cannot be deployed by digest`, `  - its output ended with: ${pushed.stdout.trim().split('\n').at(-1) ?? '(nothing)'}`)
  const sent = /: Pushed$/m.test(pushed.stdout)
  return { done: `${sent ? 'pushed' : 'pushed (the registry had every layer)'} ${reference}, deployed as ${digest}`, pod: { image: `${reference}@${digest}` } }
}

/**
 * Loaded into the node, and deployed by the ID the node holds it under (see pod-image.ts): the node
 * knows the image by its name too, which anything tagged there later takes over, and by the ID,
 * which nothing can.
 */
async function loadIntoNode(profile: string, reference: string): Promise<PublishedToPods> {
  const { id, ...loaded } = await loadIntoMinikube(profile, reference, await localImageId(reference))
  return { ...withNote(loaded, `deployed by its ID ${id}`), pod: { image: id, name: reference } }
}

/** Pushed (--registry), else straight into minikube; elsewhere the cluster must see the local image. */
export async function publishToKubernetes(reference: string, platform: Platform, options: { push: boolean } & Pick<Config, 'profile'>): Promise<PublishedToPods> {
  if (options.push) return pushToRegistry(reference)
  if (platform === 'minikube') return loadIntoNode(options.profile, reference)
  return { skipped: `no --registry: the cluster must already see this local image (Docker Desktop does; kind: kind load docker-image ${reference})`, pod: { image: reference } }
}
