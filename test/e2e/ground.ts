// Global setup of the end-to-end suite: makes sure a real Docker engine is there to run Spark on.
// In CI (CI=true) it builds the offline ground (engine, debootstrapped base image, Spark from PyPI)
// and any failure fails the run; on a laptop without an engine the suite skips and says why.
import type { TestProject } from 'vitest/node'
import { run, succeeds } from '../../scripts/lib/proc.ts'
import { ensureDockerGround } from '../../scripts/ci/docker-ground.ts'
import { ensureVersitygw } from '../../scripts/ci/s3-ground.ts'
import { inBackground } from '../background-ground.ts'
import { provideChromium } from './chromium-ground.ts'
import { providePrometheus } from './prometheus-ground.ts'

export interface E2eGround {
  /** Why the suite cannot run here; undefined when it can. */
  skipReason?: string
  /** Extra environment for the CLI: the offline build args in CI. */
  env: Record<string, string>
  /** In CI: the S3 server's binary, built in the background while the first suites run (test/background-ground.ts). */
  s3StatusFile?: string
}

declare module 'vitest' {
  export interface ProvidedContext {
    ground: E2eGround
  }
}

const mustRun = () => Boolean(process.env.CI) || process.env.SPARK_K8S_E2E === '1'

export default async function setup(project: TestProject): Promise<void> {
  provideChromium(project, mustRun())
  providePrometheus(project, mustRun())
  if (mustRun()) {
    const log = (line: string) => console.error(`[ground] ${line}`)
    const ground = await ensureDockerGround({ log })
    const s3 = inBackground('s3-server', 0, () => ensureVersitygw(log))
    project.provide('ground', { env: { SPARK_K8S_BASE_IMAGE: ground.baseImage, SPARK_K8S_SPARK_DIST: ground.sparkDist }, s3StatusFile: s3.statusFile })
    return
  }
  if (!(await succeeds('docker', ['info']))) {
    const skipReason = 'no Docker engine answers (start one, or run with SPARK_K8S_E2E=1 as root to build the ground)'
    console.warn(`\n[e2e-docker] SKIPPED: ${skipReason}\n`)
    project.provide('ground', { skipReason, env: {} })
    return
  }
  // Never wipe a developer's own docker-platform cluster: the suite starts with cluster:down.
  if ((await run`docker ps --all --quiet --filter label=app=spark`).stdout.trim()) {
    const skipReason = 'a Spark cluster runs on this Docker engine (npm run cluster:down -- --platform docker first, or SPARK_K8S_E2E=1)'
    console.warn(`\n[e2e-docker] SKIPPED: ${skipReason}\n`)
    project.provide('ground', { skipReason, env: {} })
    return
  }
  project.provide('ground', { env: {} })
}
