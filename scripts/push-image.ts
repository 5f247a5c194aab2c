#!/usr/bin/env -S npx tsx
// README step "docker push": to --registry when given, else straight into minikube (no Docker Hub round trip).
import { parseConfig, type Config, type Platform } from './lib/config.ts'
import { runIfMain } from './lib/main.ts'
import { describeOutcome, type StepOutcome } from './lib/outcome.ts'
import { resolvePlatform } from './lib/platform.ts'
import { run } from './lib/proc.ts'
import { imageReference } from './build-image.ts'

/** Docker records a repo digest for every registry an image was pushed to (or pulled from). */
async function pushedDigest(reference: string): Promise<string | undefined> {
  const repository = reference.slice(0, reference.lastIndexOf(':'))
  const inspect = await run({ nothrow: true })`docker image inspect --format ${'{{json .RepoDigests}}'} ${reference}`
  const digests = inspect.exitCode === 0 ? (JSON.parse(inspect.stdout) as string[] | null) ?? [] : []
  return digests.find((digest) => digest.startsWith(`${repository}@`))
}

export async function pushImage(reference: string, platform: Platform, config: Pick<Config, 'registry' | 'profile'>): Promise<StepOutcome> {
  if (platform === 'docker') return { skipped: 'the Docker engine that built the image runs it' }
  if (config.registry) {
    const digest = await pushedDigest(reference)
    if (digest) return { skipped: `already pushed as ${digest}` }
    await run`docker push ${reference}`
    return { done: `pushed ${reference}` }
  }
  if (platform === 'minikube') {
    const listed = await run`minikube -p ${config.profile} image ls`
    const names = new Set(listed.stdout.split('\n').map((line) => line.trim().replace(/^docker\.io\/(library\/)?/, '')))
    if (names.has(reference)) return { skipped: `image ${reference} already in minikube ${config.profile}` }
    await run`minikube -p ${config.profile} image load ${reference}`
    return { done: `loaded ${reference} into minikube ${config.profile}` }
  }
  return { skipped: 'no --registry: the cluster must already see this local image (e.g. Docker Desktop, kind load)' }
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('up', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  const outcome = await pushImage(imageReference(config), platform, config)
  console.log(describeOutcome(outcome))
})
