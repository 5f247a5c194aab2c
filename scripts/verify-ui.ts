#!/usr/bin/env -S npx tsx
// README step "check the master web UI at <minikube ip>:30001", done by a program: the master must be
// ALIVE with exactly the workers asked for, each with the configured cores and memory. The UI is read
// the way that works everywhere (the API server on Kubernetes), not through a node IP that a laptop
// may not reach.
import { parseConfig } from './lib/config.ts'
import { runIfMain } from './lib/main.ts'
import { masterUi } from './lib/master-ui.ts'
import { resolvePlatform } from './lib/platform.ts'
import { waitForWorkers, type ExpectedWorkers, type MasterState } from './lib/spark-ui.ts'
import { makeTarget, type Target } from './lib/target.ts'

export interface VerifiedUi {
  /** How /json/ was read. */
  via: string
  state: MasterState
  /** A URL that answers from this machine, when one does; else how to open the UI. */
  link: { url: string } | { hint: string }
}

export async function verifyUi(target: Target, expected: ExpectedWorkers, onProgress?: (reason: string) => void): Promise<VerifiedUi> {
  const ui = masterUi(target)
  const state = await waitForWorkers(ui, expected, { timeoutMs: target.config.timeoutSeconds * 1000, onProgress })
  return { via: ui.via, state, link: await ui.link() }
}

/** "http://127.0.0.1:30001", or the hint when no URL answers from here. */
export function describeLink(link: VerifiedUi['link']): string {
  return 'url' in link ? link.url : `not reachable from this machine directly; ${link.hint}`
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('up', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  const { state, link } = await verifyUi(makeTarget(config, platform), { count: config.workers, cores: config.workerCores, memory: config.workerMemory })
  console.log(`master ${state.status}, ${state.aliveworkers} workers alive; UI: ${describeLink(link)}`)
})
