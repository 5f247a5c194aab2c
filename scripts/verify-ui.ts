#!/usr/bin/env -S npx tsx
// README step "check the master web UI at <minikube ip>:30001", done by a program: the master must be
// ALIVE with exactly the workers asked for, each with the configured cores and memory.
import { parseConfig } from './lib/config.ts'
import { runIfMain } from './lib/main.ts'
import { uiNodePort } from './lib/manifests.ts'
import { resolvePlatform } from './lib/platform.ts'
import { run } from './lib/proc.ts'
import { waitForWorkers, type ExpectedWorkers, type MasterState } from './lib/spark-ui.ts'
import { makeTarget, type Target } from './lib/target.ts'

/** The address NodePorts answer on: loopback for Docker, `minikube ip`, or a node's external/internal IP. */
export async function nodeAddress(target: Target): Promise<string> {
  if (target.platform === 'docker') return '127.0.0.1'
  if (target.platform === 'minikube') return (await run`minikube -p ${target.config.profile} ip`).stdout.trim()
  const kube = await target.kube()
  const { items } = await kube.core.listNode()
  const addresses = items.flatMap((node) => node.status?.addresses ?? [])
  const address = addresses.find((a) => a.type === 'ExternalIP') ?? addresses.find((a) => a.type === 'InternalIP')
  if (!address) throw new Error('no node reports an ExternalIP or InternalIP address')
  return address.address
}

export async function masterUiUrl(target: Target): Promise<string> {
  return `http://${await nodeAddress(target)}:${uiNodePort(target.manifests)}`
}

export async function verifyUi(target: Target, expected: ExpectedWorkers, onProgress?: (reason: string) => void): Promise<{ url: string; state: MasterState }> {
  const url = await masterUiUrl(target)
  const state = await waitForWorkers(url, expected, { timeoutMs: target.config.timeoutSeconds * 1000, onProgress })
  return { url, state }
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('up', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  const { url, state } = await verifyUi(makeTarget(config, platform), { count: config.workers, cores: config.workerCores, memory: config.workerMemory })
  console.log(`${url}: ${state.status}, ${state.aliveworkers} workers alive`)
})
