import type { Config, Platform } from './config.ts'
import { connectKube, type Kube } from './kube.ts'
import { loadManifests, type ClusterManifests } from './manifests.ts'
import { kubeContext } from './platform.ts'

/** What every step needs to know about the cluster it works on. */
export interface Target {
  platform: Platform
  config: Config
  manifests: ClusterManifests
  /** Connected on first use and then shared. */
  kube(): Promise<Kube>
}

export function makeTarget(config: Config, platform: Platform, manifests: ClusterManifests = loadManifests()): Target {
  let connection: Promise<Kube> | undefined
  return {
    platform,
    config,
    manifests,
    kube: () => (connection ??= connectKube(kubeContext(config, platform))),
  }
}
