// The Prometheus ground, for the e2e projects' global setups (test/e2e/ground.ts, kube-ground.ts):
// Debian's prometheus, which the metrics tests run with a config of their own (test/e2e/prometheus.ts).
// Where the suite must run (CI) it is installed in the background (test/background-ground.ts) and a
// failure fails the metrics tests; elsewhere one already installed is used, and its absence is a skip reason.
import { existsSync } from 'node:fs'
import type { TestProject } from 'vitest/node'
import { ensurePrometheus, prometheusPath } from '../../scripts/ci/prometheus-ground.ts'
import { inBackground } from '../background-ground.ts'

export interface PrometheusGround {
  binary: string
  /** Why the metrics tests cannot run here; undefined when they can. */
  skipReason?: string
  /** For groundReady: set when the install runs in the background. */
  statusFile?: string
}

declare module 'vitest' {
  export interface ProvidedContext {
    prometheus: PrometheusGround
  }
}

export function providePrometheus(project: TestProject, mustRun: boolean): void {
  if (mustRun) {
    const log = (line: string) => console.error(`[prometheus-ground] ${line}`)
    // One status file per project: both e2e projects register it; the second install finds it done.
    const background = inBackground(`prometheus-${project.name}`, 0, () => ensurePrometheus(log))
    project.provide('prometheus', { binary: prometheusPath, statusFile: background.statusFile })
    return
  }
  const skipReason = existsSync(prometheusPath) ? undefined : `no ${prometheusPath} (apt-get install prometheus, or run as root with CI=true to have the ground install it)`
  project.provide('prometheus', { binary: prometheusPath, skipReason })
}
