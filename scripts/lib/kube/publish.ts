import type { Config, Platform } from '../config.ts'
import { fetchWithin } from '../http.ts'
import type { StepOutcome } from '../outcome.ts'
import { run } from '../proc.ts'
import { loadIntoMinikube } from './minikube-image.ts'

const manifestTypes = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ')

/**
 * Asks the registry itself (HEAD /v2/<name>/manifests/<tag>) whether the tag is there, so a wiped
 * or different registry is never mistaken for one we pushed to. Loopback registries speak plain
 * HTTP, as Docker allows. Undefined when the registry will not say (e.g. it wants a login).
 */
export async function registryHasTag(reference: string): Promise<boolean | undefined> {
  const slash = reference.indexOf('/')
  const host = reference.slice(0, slash)
  const [name, tag] = reference.slice(slash + 1).split(':')
  const scheme = /^(localhost|127\.\d+\.\d+\.\d+)(:\d+)?$/.test(host) ? 'http' : 'https'
  try {
    const response = await fetchWithin(`${scheme}://${host}/v2/${name}/manifests/${tag}`, 10_000, { method: 'HEAD', headers: { Accept: manifestTypes } })
    if (response.status === 200) return true
    if (response.status === 404) return false
    return undefined
  } catch {
    return undefined
  }
}

/** To --registry when given, else straight into minikube; elsewhere the cluster must see the local image. */
export async function publishToKubernetes(reference: string, platform: Platform, config: Pick<Config, 'registry' | 'profile'>): Promise<StepOutcome> {
  if (config.registry) {
    if (await registryHasTag(reference)) return { skipped: `${reference} already in the registry` }
    await run`docker push ${reference}`
    return { done: `pushed ${reference}` }
  }
  if (platform === 'minikube') return loadIntoMinikube(config.profile, reference)
  return { skipped: 'no --registry: the cluster must already see this local image (e.g. Docker Desktop, kind load)' }
}
