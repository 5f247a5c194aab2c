#!/usr/bin/env -S npx tsx
// README step "minikube stop", skipped when the profile is not running.
import { parseConfig } from './lib/config.ts'
import { runIfMain } from './lib/main.ts'
import { describeOutcome, type StepOutcome } from './lib/outcome.ts'
import { run } from './lib/proc.ts'
import { minikubeStatus } from './lib/kube/minikube.ts'

// A powering-off node sends its remaining processes SIGTERM and waits for them, and CoreDNS answers
// SIGTERM by serving on for its lameduck period (5 s in kubeadm's Corefile): `minikube stop` then
// takes ~6 s instead of ~1 s. The node is going down, so the kubelet is stopped first (nothing
// restarts the DNS server; `minikube start` starts it again) and CoreDNS is killed outright.
const beforePowerOff = 'sudo systemctl stop kubelet && { sudo pkill -KILL -x coredns || true; }'

export async function stopMinikube(profile: string): Promise<StepOutcome> {
  const status = await minikubeStatus(profile)
  if (!status) return { skipped: `no minikube profile ${profile}` }
  if (status.Host !== 'Running') return { skipped: `minikube profile ${profile} is already ${status.Host?.toLowerCase() ?? 'stopped'}` }
  // Only a faster stop rides on it: if the node cannot be reached this way, minikube stops it anyway.
  const prepared = await run({ nothrow: true, timeout: 15_000 })`minikube -p ${profile} ssh -- ${beforePowerOff}`
  await run`minikube stop -p ${profile}`
  const why = prepared.exitCode === null ? 'no answer in 15 s' : prepared.stderr.trim().split('\n').pop() || `exit ${prepared.exitCode}`
  const note = prepared.exitCode === 0 ? '' : ` (CoreDNS was not stopped first, so the node waited for it: ${why})`
  return { done: `minikube profile ${profile} stopped${note}` }
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('down', process.argv.slice(2))
  const outcome = await stopMinikube(config.profile)
  console.log(describeOutcome(outcome))
})
