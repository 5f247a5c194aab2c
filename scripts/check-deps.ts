#!/usr/bin/env -S npx tsx
// README step "Install the required software", checked instead of assumed: no Python on the host.
import { parseConfig, type Platform } from './lib/config.ts'
import { errorMessage, StepError } from './lib/errors.ts'
import { connectKube } from './lib/kube.ts'
import { runIfMain } from './lib/main.ts'
import { resolvePlatform } from './lib/platform.ts'
import { onPath, succeeds } from './lib/proc.ts'

export interface Requirement {
  what: string
  ok: boolean
  fix: string
}

const minimumNode = [20, 11]

export function nodeIsRecentEnough(version: string = process.versions.node): boolean {
  const [major, minor] = version.split('.').map(Number)
  return major > minimumNode[0] || (major === minimumNode[0] && minor >= minimumNode[1])
}

/** Every requirement of the platform, checked at once so one message can list all that is missing. */
export async function checkRequirements(platform: Platform, context?: string): Promise<Requirement[]> {
  const hasDocker = await onPath('docker')
  const requirements: Requirement[] = [
    { what: `Node.js >= ${minimumNode.join('.')} (have ${process.versions.node})`, ok: nodeIsRecentEnough(), fix: 'install Node 20 LTS from nodejs.org or your package manager' },
  ]
  // Every platform builds the image with the local Docker engine.
  requirements.push(
    { what: 'docker CLI', ok: hasDocker, fix: 'install Docker (Docker Desktop, or `apt-get install docker.io`)' },
    { what: 'a reachable Docker daemon', ok: hasDocker && (await succeeds('docker', ['info'])), fix: 'start Docker Desktop or `sudo systemctl start docker`; check DOCKER_HOST' },
  )
  if (platform === 'minikube') {
    requirements.push({ what: 'minikube', ok: await onPath('minikube'), fix: 'install minikube: https://minikube.sigs.k8s.io/docs/start/' })
  }
  if (platform === 'kubernetes') {
    const reachable = await connectKube(context)
      .then(async (kube) => (await kube.core.listNamespace({ limit: 1 }), ''))
      .catch((error: unknown) => errorMessage(error))
    requirements.push({ what: `kube context ${context ?? '(current)'} reachable`, ok: reachable === '', fix: reachable || 'check --context and your kubeconfig' })
  }
  return requirements
}

export async function checkDependencies(platform: Platform, context?: string): Promise<string> {
  const requirements = await checkRequirements(platform, context)
  const missing = requirements.filter((r) => !r.ok)
  if (missing.length > 0) {
    throw new StepError(
      `missing ${missing.map((r) => r.what).join(', ')}`,
      missing.map((r) => `  - ${r.what}: ${r.fix}`).join('\n'),
    )
  }
  return requirements.map((r) => r.what).join(', ')
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('up', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  console.log(`${platform}: ${await checkDependencies(platform, config.context)}`)
})
