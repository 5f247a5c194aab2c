#!/usr/bin/env -S npx tsx
/**
 * The Prometheus the metrics e2e scrapes the cluster with: Debian's prometheus package (the
 * binary only; the test runs it with its own config and storage). Idempotent: nothing to do when
 * it is installed; else apt-get installs it (as root, as CI runs).
 *
 *   npx tsx scripts/ci/prometheus-ground.ts     # installs it if missing and prints its path
 */
import { runIfMain } from '../lib/main.ts'
import { ensurePackages, type Log } from './host.ts'

export const prometheusPath = '/usr/bin/prometheus'

export async function ensurePrometheus(log: Log): Promise<string> {
  await ensurePackages(log, { prometheus: prometheusPath })
  return prometheusPath
}

runIfMain(import.meta.url, async () => {
  console.log(await ensurePrometheus((line) => console.error(`[prometheus-ground] ${line}`)))
})
