#!/usr/bin/env -S npx tsx
// Before `kubectl apply` (or the containers): does the cluster have room for what the pods request?
// The classic README finds out from a worker stuck in Pending; here the numbers and the ways out
// come before anything is applied.
import { parseConfig } from './lib/config.ts'
import { runIfMain } from './lib/main.ts'
import { describeOutcome, type StepOutcome } from './lib/outcome.ts'
import { resolvePlatform } from './lib/platform.ts'
import type { RoomShape } from './lib/runtime.ts'
import { makeTarget, type Target } from './lib/target.ts'

export function checkRoom(target: Target, shape: RoomShape): Promise<StepOutcome> {
  return target.runtime.checkRoom(shape)
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('up', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  console.log(describeOutcome(await checkRoom(makeTarget(config, platform), config)))
})
