// Global setup of the contract suite: the real minikube binary (scripts/ci/minikube/build.ts) and
// what the docker engine offers. In CI (CI=true) or with SPARK_K8S_CONTRACT=1 the binary is built
// when missing (~4-8 min) and a failure fails the run; elsewhere the suite runs only when the binary
// is already cached (`npx tsx scripts/ci/minikube/build.ts`), and skips saying why otherwise.
import { existsSync } from 'node:fs'
import type { TestProject } from 'vitest/node'
import { ensureDockerGround } from '../../scripts/ci/docker-ground.ts'
import { inBackground } from '../background-ground.ts'
import { ensureMinikubeBinary, minikubeBinary, minikubeVersion } from '../../scripts/ci/minikube/build.ts'
import { dockerResources, type DockerResources } from '../../scripts/ci/minikube/record.ts'

export interface MinikubeContractGround {
  /** Why the suite cannot run here; undefined when it can. */
  skipReason?: string
  binary?: string
  /** For groundReady: the suite waits on it. */
  statusFile?: string
  /** The docker engine's CPUs and memory; undefined when it does not answer. */
  docker?: DockerResources
  /** Why the cases that ask docker are skipped; undefined when they run. */
  dockerSkipReason?: string
}

declare module 'vitest' {
  export interface ProvidedContext {
    minikubeGround: MinikubeContractGround
  }
}

const log = (line: string) => console.error(`[minikube-ground] ${line}`)
const mustRun = () => Boolean(process.env.CI) || process.env.SPARK_K8S_CONTRACT === '1'

export default async function setup(project: TestProject): Promise<void> {
  if (!mustRun() && !existsSync(minikubeBinary)) {
    const skipReason = `minikube v${minikubeVersion} is not built yet (npx tsx scripts/ci/minikube/build.ts, ~4-8 min), or run with CI=true / SPARK_K8S_CONTRACT=1 to build it first`
    console.warn(`\n[contract] SKIPPED: ${skipReason}\n`)
    project.provide('minikubeGround', { skipReason })
    return
  }
  // Built in the background when missing (test/background-ground.ts); the suite waits for it.
  const background = inBackground('minikube-binary', 2, () => ensureMinikubeBinary(log))
  // CI's Docker engine is the project's own ground: start it here too, whatever order the suites' setups run in.
  if (mustRun()) await ensureDockerGround({ log })
  const docker = await dockerResources()
  if (!docker && mustRun()) {
    throw new Error('[contract] no Docker engine answers `docker info`: the docker-driver cases need one (npm run ground:docker starts it)')
  }
  const dockerSkipReason = docker ? undefined : 'no Docker engine answers `docker info` (the docker driver asks it)'
  if (dockerSkipReason) console.warn(`\n[contract] docker-driver cases SKIPPED: ${dockerSkipReason}\n`)
  project.provide('minikubeGround', { binary: minikubeBinary, statusFile: background.statusFile, docker, dockerSkipReason })
}
