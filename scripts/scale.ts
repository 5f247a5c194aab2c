#!/usr/bin/env -S npx tsx
// README step "kubectl scale deployment.apps/spark-worker --replicas=N", which returns only when the
// master reports exactly N ALIVE workers (kubectl returns before any worker has registered).
import { parseConfig } from './lib/config.ts'
import { endElastic } from './elastic.ts'
import { runIfMain } from './lib/main.ts'
import { resolvePlatform } from './lib/platform.ts'
import type { ScaleOutcome } from './lib/runtime.ts'
import { makeTarget, type Target } from './lib/target.ts'
import { verifyUi } from './verify-ui.ts'
import { waitForRollout } from './wait-ready.ts'

export type { ScaleOutcome }

/**
 * Sets the worker count; the cores and memory stay what the running cluster has. A fixed count ends
 * an elastic range: its controller goes first (said), so it cannot change the count again.
 */
export async function setWorkerCount(target: Target, count: number): Promise<ScaleOutcome> {
  const ended = await endElastic(target, count)
  const outcome = await target.runtime.setWorkerCount(count)
  if ('skipped' in ended) return outcome
  return { done: 'done' in outcome ? `${ended.done}; ${outcome.done}` : `${ended.done}; ${outcome.skipped}`, expected: outcome.expected }
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('scale', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  const target = makeTarget(config, platform)
  const outcome = await setWorkerCount(target, config.workers)
  await waitForRollout(target)
  const { state } = await verifyUi(target, outcome.expected)
  console.log(`${'done' in outcome ? outcome.done : `skipped: ${outcome.skipped}`}; master reports ${state.aliveworkers} alive workers`)
})
