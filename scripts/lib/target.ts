import type { Config, Platform } from './config.ts'
import { dockerRuntime } from './docker/runtime.ts'
import { ClusterUnavailable } from './errors.ts'
import { connectKube, type Kube } from './kube/kube.ts'
import { loadManifests, type ClusterManifests } from './manifests.ts'
import { isRunning, minikubeStatus, readProfile } from './kube/minikube.ts'
import { kubeContext } from './platform.ts'
import { kubeRuntime } from './kube/runtime.ts'
import { run } from './proc.ts'
import type { Runtime } from './runtime.ts'

/** What every step needs to know about the cluster it works on. */
export interface Target {
  platform: Platform
  config: Config
  manifests: ClusterManifests
  /** Connected on first use and then shared. */
  kube(): Promise<Kube>
  /** What the steps call for everything that differs by runtime. */
  runtime: Runtime
}

/** `connect`: a connection to use instead of the kubeconfig's (tests with a fake API server). */
export function makeTarget(config: Config, platform: Platform, manifests: ClusterManifests = loadManifests(), connect?: () => Promise<Kube>): Target {
  let connection: Promise<Kube> | undefined
  const connectFromKubeconfig = async () => {
    if (platform === 'minikube') await requireRunningMinikube(config.profile)
    return connectKube(kubeContext(config, platform))
  }
  const target = {
    platform,
    config,
    manifests,
    kube: () => (connection ??= (connect ?? connectFromKubeconfig)()),
  } as Target
  // The one place that asks which runtime it is.
  target.runtime = platform === 'docker' ? dockerRuntime(target) : kubeRuntime(target)
  return target
}

/**
 * `minikube stop` deletes the profile's kube context, so a stopped profile must be named as such
 * before any API call ("context minikube is not in your kubeconfig" helps nobody). A running
 * profile whose context is missing or stale (`Kubeconfig: Misconfigured`) is repaired the way
 * minikube itself suggests, with `minikube update-context`.
 */
export async function requireRunningMinikube(profile: string): Promise<void> {
  const status = await minikubeStatus(profile)
  if (!status) {
    // A profile whose node was removed outside minikube reports no status at all, like a missing one.
    const exists = await readProfile(profile)
    throw new ClusterUnavailable(exists ? `minikube profile ${profile} is stopped (its node is gone) — run \`npm run cluster:up\`` : `there is no minikube profile ${profile} — run \`npm run cluster:up\``)
  }
  if (status.Host !== 'Running') throw new ClusterUnavailable(`minikube profile ${profile} is stopped — run \`npm run cluster:up\``)
  if (!isRunning(status)) {
    throw new ClusterUnavailable(`minikube profile ${profile} is not healthy (kubelet ${status.Kubelet}, API server ${status.APIServer}) — run \`npm run cluster:up\``)
  }
  if (status.Kubeconfig !== 'Configured') await run`minikube update-context -p ${profile}`
}
