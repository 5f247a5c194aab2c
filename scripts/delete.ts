#!/usr/bin/env -S npx tsx
// README step "kubectl delete all -l app=spark" (or role=master|worker), then wait until it is really gone.
import { parseConfig, type DeletableRole } from './lib/config.ts'
import { runIfMain } from './lib/main.ts'
import { describeOutcome, type StepOutcome } from './lib/outcome.ts'
import { resolvePlatform } from './lib/platform.ts'
import { makeTarget, type Target } from './lib/target.ts'

/** Everything labelled as ours (or one role's), on whatever the cluster runs; returns when it is gone. Never the user's data (the outcome says where it stays). */
export function deleteCluster(target: Target, role?: DeletableRole, onProgress?: (reason: string) => void): Promise<StepOutcome> {
  return target.runtime.deleteCluster(role, onProgress)
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('down', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  const outcome = await deleteCluster(makeTarget(config, platform), config.role, (reason) => console.error(reason))
  console.log(describeOutcome(outcome))
})
