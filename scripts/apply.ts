#!/usr/bin/env -S npx tsx
// README step "kubectl apply -f spark-master.yml / spark-worker.yml": server-side apply of the parsed
// manifests with only the run-time values set, after the cluster's Secret (RPC authentication and
// encryption); on Docker the same pod templates become containers and the Secret a volume.
import { parseConfig } from './lib/config.ts'
import { runIfMain } from './lib/main.ts'
import { describeOutcome, type StepOutcome } from './lib/outcome.ts'
import { resolvePlatform } from './lib/platform.ts'
import type { ClusterStorage } from './lib/storage.ts'
import { makeTarget, type Target } from './lib/target.ts'
import { imageReference } from './build-image.ts'

/** Applies the cluster where the target says: server-side apply on Kubernetes, containers on Docker. */
export function applyCluster(target: Target, image: string, storage: ClusterStorage): Promise<StepOutcome> {
  return target.runtime.apply(image, storage)
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('up', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  const target = makeTarget(config, platform)
  console.log(describeOutcome(await applyCluster(target, imageReference(config), (await target.runtime.prepareStorage()).storage)))
})
