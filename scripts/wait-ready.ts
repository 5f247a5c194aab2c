#!/usr/bin/env -S npx tsx
// README step "kubectl get all": instead of eyeballing, wait until the rollout is complete by kubectl's rule.
import { parseConfig } from './lib/config.ts'
import { runIfMain } from './lib/main.ts'
import { resolvePlatform } from './lib/platform.ts'
import { makeTarget, type Target } from './lib/target.ts'

/**
 * Kubernetes: both Deployments rolled out by kubectl's rule, failing fast when a pod cannot get
 * there by waiting (Unschedulable, image pull back-off, crash loop, a volume it cannot mount) with
 * the scheduler's or the kubelet's own message. Docker: master and every worker container running (not restarting). */
export function waitForRollout(target: Target, onProgress?: (reason: string) => void, proven?: Promise<string>): Promise<string> {
  return target.runtime.waitReady(onProgress, proven)
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('status', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  console.log(await waitForRollout(makeTarget(config, platform), (reason) => console.error(reason)))
})
