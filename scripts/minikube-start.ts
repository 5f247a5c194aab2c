#!/usr/bin/env -S npx tsx
// README step "minikube start", skipped when the profile already runs, sized to the workers asked for.
import { cpus, totalmem } from 'node:os'
import { parseConfig, type Config } from './lib/config.ts'
import { runIfMain } from './lib/main.ts'
import { describeOutcome, type StepOutcome } from './lib/outcome.ts'
import { loadManifests, mainContainer, renderCluster, type ClusterManifests } from './lib/manifests.ts'
import { run } from './lib/proc.ts'
import { kubeCpuToCores, kubeQuantityToMebibytes } from './lib/units.ts'

export interface MinikubeStatus {
  Host?: string
  Kubelet?: string
  APIServer?: string
  Kubeconfig?: string
}

/** `minikube status -o json`; exits non-zero when stopped (bit flags) or 85 with no profile, so read stdout. */
export async function minikubeStatus(profile: string): Promise<MinikubeStatus | undefined> {
  const result = await run({ nothrow: true })`minikube status -p ${profile} -o json`
  try {
    const parsed = JSON.parse(result.stdout) as MinikubeStatus | MinikubeStatus[]
    return Array.isArray(parsed) ? parsed[0] : parsed
  } catch {
    return undefined
  }
}

export function isRunning(status: MinikubeStatus | undefined): boolean {
  return status?.Host === 'Running' && status.Kubelet === 'Running' && status.APIServer === 'Running'
}

/**
 * CPUs and memory for the VM: what the pods request (workers, master, one Pi driver) plus a
 * reserve for Kubernetes itself, capped at what this machine has.
 */
export function minikubeSize(
  manifests: ClusterManifests,
  config: Pick<Config, 'workers' | 'workerCores' | 'workerMemory'>,
  host = { cpus: cpus().length, memoryMiB: Math.floor(totalmem() / 1024 ** 2) },
) {
  const rendered = renderCluster(manifests, { ...config, image: '', namespace: '' })
  const requests = [rendered.master, manifests.piJob].map((o) => mainContainer(o).resources?.requests ?? {})
  const worker = mainContainer(rendered.worker).resources!.requests!
  const reserve = { cpus: 1, memoryMiB: 2048 }
  const memoryMiB =
    reserve.memoryMiB +
    config.workers * kubeQuantityToMebibytes(String(worker.memory)) +
    requests.reduce((sum, r) => sum + kubeQuantityToMebibytes(String(r.memory ?? '0')), 0)
  const wantedCpus = reserve.cpus + config.workers * kubeCpuToCores(worker.cpu) + requests.reduce((sum, r) => sum + kubeCpuToCores(r.cpu ?? 0), 0)
  // Leave the host 2 GiB; a VM sized past the machine would not start at all.
  return { cpus: Math.min(host.cpus, Math.max(2, Math.ceil(wantedCpus))), memoryMiB: Math.min(Math.ceil(memoryMiB), host.memoryMiB - 2048) }
}

export async function startMinikube(config: Pick<Config, 'profile' | 'workers' | 'workerCores' | 'workerMemory'>, manifests = loadManifests()): Promise<StepOutcome> {
  if (isRunning(await minikubeStatus(config.profile))) {
    return { skipped: `minikube profile ${config.profile} already running` }
  }
  const { cpus, memoryMiB } = minikubeSize(manifests, config)
  // A profile that exists keeps its size (minikube ignores --cpus/--memory then and says so).
  await run`minikube start -p ${config.profile} --cpus ${cpus} --memory ${`${memoryMiB}mb`}`
  return { done: `minikube profile ${config.profile} started (${cpus} CPUs, ${memoryMiB} MiB)` }
}

runIfMain(import.meta.url, async () => {
  const outcome = await startMinikube(parseConfig('up', process.argv.slice(2)))
  console.log(describeOutcome(outcome))
})
