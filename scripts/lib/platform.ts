import type { Config, Platform } from './config.ts'
import { onPath, succeeds } from './proc.ts'

export interface ResolvedPlatform {
  platform: Platform
  /** Said in the output, so nobody wonders where the cluster went. */
  reason: string
}

/** auto: --context → kubernetes; minikube installed → minikube; else a reachable Docker engine. */
export async function resolvePlatform(config: Pick<Config, 'platform' | 'context'>): Promise<ResolvedPlatform> {
  // parseConfig has already turned auto + --context into kubernetes.
  if (config.context) return { platform: 'kubernetes', reason: `--context ${config.context}` }
  if (config.platform !== 'auto') return { platform: config.platform, reason: 'chosen with --platform' }
  if (await onPath('minikube')) return { platform: 'minikube', reason: 'minikube is installed' }
  if (await succeeds('docker', ['info'])) return { platform: 'docker', reason: 'minikube is not installed; a Docker engine answers' }
  return { platform: 'minikube', reason: 'neither minikube nor a Docker engine found; minikube is the default' }
}

/** The kube context a Kubernetes platform talks to; minikube names its context after the profile. */
export function kubeContext(config: Pick<Config, 'profile' | 'context'>, platform: Platform): string | undefined {
  return platform === 'minikube' ? config.profile : config.context
}
