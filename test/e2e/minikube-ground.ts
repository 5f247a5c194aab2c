// Global setup of the minikube end-to-end suite: the offline minikube ground (scripts/ci/minikube-ground.ts:
// binary, node image, caches), made in the background (test/background-ground.ts: the suite waits
// for it). No profile is started here: the suite's own `cluster:up` does that, as a
// user's would. In CI (CI=true) it must come up or the run fails; elsewhere it runs only when asked
// (SPARK_K8S_E2E_MINIKUBE=1, as root). Teardown deletes the ground's profiles.
import type { TestProject } from 'vitest/node'
import { ensureDockerGround } from '../../scripts/ci/docker-ground.ts'
import { minikubeEnv, minikubeGroundDown, minikubeGroundUp } from '../../scripts/ci/minikube-ground.ts'
import { minikubeBinary } from '../../scripts/ci/minikube/build.ts'
import { inBackground } from '../background-ground.ts'

export interface MinikubeE2eGround {
  skipReason?: string
  env: Record<string, string>
  /** For groundReady: the suite waits on it. */
  statusFile?: string
}

declare module 'vitest' {
  export interface ProvidedContext {
    minikubeE2eGround: MinikubeE2eGround
  }
}

const log = (line: string) => console.error(`[minikube-ground] ${line}`)

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (!process.env.CI && process.env.SPARK_K8S_E2E_MINIKUBE !== '1') {
    const skipReason = 'the minikube suite starts a real minikube as root: run with CI=true or SPARK_K8S_E2E_MINIKUBE=1'
    console.warn(`\n[e2e-minikube] SKIPPED: ${skipReason}\n`)
    project.provide('minikubeE2eGround', { skipReason, env: {} })
    return undefined
  }
  const docker = await ensureDockerGround({ log })
  // A clean start: no profile left from an earlier run.
  const background = inBackground('minikube-ground', 3, async () => {
    await minikubeGroundUp(log)
    await minikubeGroundDown(log)
  })
  project.provide('minikubeE2eGround', {
    statusFile: background.statusFile,
    env: { ...minikubeEnv(minikubeBinary), SPARK_K8S_BASE_IMAGE: docker.baseImage, SPARK_K8S_SPARK_DIST: docker.sparkDist },
  })
  return async () => {
    await background.done
    await minikubeGroundDown(log)
  }
}
