// Global setup of the Kubernetes end-to-end suite: a real single-node cluster built on this
// machine (scripts/ci/kube-ground.ts), made in the background (test/background-ground.ts: the suite
// waits for it) and torn down again afterwards. In CI (CI=true) it must come up or the run fails;
// elsewhere it runs only when asked (SPARK_K8S_E2E_KUBE=1, as root).
import type { TestProject } from 'vitest/node'
import { ensureDockerGround } from '../../scripts/ci/docker-ground.ts'
import { kubeGround, kubeGroundDown, kubeGroundUp } from '../../scripts/ci/kube-ground.ts'
import { inBackground } from '../background-ground.ts'
import { provideChromium } from './chromium-ground.ts'
import { providePrometheus } from './prometheus-ground.ts'

export interface KubeE2eGround {
  skipReason?: string
  env: Record<string, string>
  nodeIp?: string
  /** For groundReady: the suite waits on it. */
  statusFile?: string
}

declare module 'vitest' {
  export interface ProvidedContext {
    kubeGround: KubeE2eGround
  }
}

const log = (line: string) => console.error(`[kube-ground] ${line}`)

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const mustRun = Boolean(process.env.CI) || process.env.SPARK_K8S_E2E_KUBE === '1'
  provideChromium(project, mustRun)
  providePrometheus(project, mustRun)
  if (!mustRun) {
    const skipReason = 'the Kubernetes suite builds a real cluster as root: run with CI=true or SPARK_K8S_E2E_KUBE=1'
    console.warn(`\n[e2e-kube] SKIPPED: ${skipReason}\n`)
    project.provide('kubeGround', { skipReason, env: {} })
    return undefined
  }
  const docker = await ensureDockerGround({ log })
  const background = inBackground('kube-ground', 1, () => kubeGroundUp(log))
  project.provide('kubeGround', {
    nodeIp: kubeGround.nodeIp,
    statusFile: background.statusFile,
    env: {
      KUBECONFIG: kubeGround.kubeconfig,
      SPARK_K8S_CONTEXT: kubeGround.context,
      SPARK_K8S_REGISTRY: kubeGround.registry,
      SPARK_K8S_BASE_IMAGE: docker.baseImage,
      SPARK_K8S_SPARK_DIST: docker.sparkDist,
    },
  })
  // Leave the machine as we found it (the built binaries stay cached).
  return async () => {
    await background.done
    await kubeGroundDown(log)
  }
}
