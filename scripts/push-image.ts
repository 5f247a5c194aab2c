#!/usr/bin/env -S npx tsx
// README step "docker push": to --registry when given, else straight into minikube (no Docker Hub round trip).
import { parseConfig } from './lib/config.ts'
import { runIfMain } from './lib/main.ts'
import { describeOutcome } from './lib/outcome.ts'
import { resolvePlatform } from './lib/platform.ts'
import type { PublishedImage } from './lib/runtime.ts'
import { makeTarget, type Target } from './lib/target.ts'
import { imageReference } from './build-image.ts'

export function pushImage(target: Target, reference: string, builtOn?: string): Promise<PublishedImage> {
  return target.runtime.publishImage(reference, builtOn)
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('up', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  console.log(describeOutcome(await pushImage(makeTarget(config, platform), imageReference(config))))
})
