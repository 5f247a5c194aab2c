#!/usr/bin/env -S npx tsx
// README step "minikube stop", skipped when the profile is not running.
import { parseConfig } from './lib/config.ts'
import { runIfMain } from './lib/main.ts'
import { describeOutcome, type StepOutcome } from './lib/outcome.ts'
import { run } from './lib/proc.ts'
import { minikubeStatus } from './lib/kube/minikube.ts'

export async function stopMinikube(profile: string): Promise<StepOutcome> {
  const status = await minikubeStatus(profile)
  if (!status) return { skipped: `no minikube profile ${profile}` }
  if (status.Host !== 'Running') return { skipped: `minikube profile ${profile} is already ${status.Host?.toLowerCase() ?? 'stopped'}` }
  await run`minikube stop -p ${profile}`
  return { done: `minikube profile ${profile} stopped` }
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('down', process.argv.slice(2))
  const outcome = await stopMinikube(config.profile)
  console.log(describeOutcome(outcome))
})
