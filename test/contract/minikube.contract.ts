// Contract tests: the real minikube binary, in a throwaway MINIKUBE_HOME, against (a) the recorded
// fixtures the unit tests replay and (b) scripts/lib/kube/minikube.ts. No cluster is started; the
// docker-driver cases only ask the docker engine about itself (dry runs, a --download-only start
// that fails offline before any container exists).
import { readdir } from 'node:fs/promises'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { groundReady } from '../background-ground.ts'
import { minikubeVersion } from '../../scripts/ci/minikube/build.ts'
import { cases, comparable, fixtureDir, profile, readFixture, recordedMount, runCase, Sandbox, type Setup } from '../../scripts/ci/minikube/record.ts'
import { isRunning, minikubeStatus, NONEXISTENT, profileNameProblem, readProfile } from '../../scripts/lib/kube/minikube.ts'

const ground = inject('minikubeGround')
const noDocker = { cpus: 0, memoryMiB: 0 }

describe.skipIf(ground.skipReason)(`minikube v${minikubeVersion}, the real binary`, () => {
  beforeAll(() => groundReady(ground.statusFile!, `minikube v${minikubeVersion}`), 60 * 60_000)

  describe('still prints what test/fixtures/minikube records', () => {
    it('has one fixture per case and no stale ones', async () => {
      const files = (await readdir(fixtureDir)).filter((file) => file.endsWith('.json'))
      expect(files.sort()).toEqual(cases.map((c) => `${c.name}.json`).sort())
    })

    for (const c of cases) {
      it.skipIf(c.needsDocker && ground.dockerSkipReason)(`${c.name}: ${c.compare} match`, async () => {
        const fixture = await readFixture(c.name)
        const live = await runCase(ground.binary!, c, ground.docker ?? noDocker)
        // Same command, up to the docker engine's numbers in the resource cases.
        expect(live.command.map(maskNumbers)).toEqual(fixture.command.map(maskNumbers))
        expect(comparable(c, live), `${live.command.join(' ')}\n--- stdout\n${live.stdout}\n--- stderr\n${live.stderr}`).toEqual(comparable(c, fixture))
      })
    }
  })

  describe('scripts/lib/kube/minikube.ts reads it right', () => {
    it('no profile: minikubeStatus and readProfile are undefined, not running', async () => {
      await inSandbox('fresh', async () => {
        const status = await minikubeStatus(profile)
        expect(status).toBeUndefined()
        expect(isRunning(status)).toBe(false)
        expect(await readProfile(profile)).toBeUndefined()
      })
    })

    it.skipIf(ground.dockerSkipReason)('after a dry-run start: unknown to status, listed as an invalid profile without config', async () => {
      await inSandbox('dry-run-leftover', async () => {
        expect(await minikubeStatus(profile)).toBeUndefined()
        expect(await readProfile(profile)).toEqual({
          name: profile,
          status: '',
          driver: '',
          cpus: 0,
          memoryMiB: 0,
          mountString: '',
          containerRuntime: undefined,
          kubernetesVersion: undefined,
          nodes: 0,
          valid: false,
        })
      })
    })

    it.skipIf(ground.dockerSkipReason)('config saved but no node: status Nonexistent (minikube prints null), a valid profile in MiB', async () => {
      await inSandbox('node-gone', async () => {
        const status = await minikubeStatus(profile)
        expect(status).toEqual({ Name: profile, Host: NONEXISTENT, Kubelet: NONEXISTENT, APIServer: NONEXISTENT, Kubeconfig: NONEXISTENT })
        expect(isRunning(status)).toBe(false)
        // Started with --cpus 2 --memory 3g: 3g is kept as 3072, so Config.Memory is MiB.
        expect(await readProfile(profile)).toEqual({
          name: profile,
          status: '',
          driver: 'docker',
          cpus: 2,
          memoryMiB: 3072,
          mountString: '',
          containerRuntime: 'docker',
          kubernetesVersion: 'v1.34.0',
          nodes: 1,
          valid: true,
        })
        expect(await readProfile('some-other-profile')).toBeUndefined()
      })
    })

    it.skipIf(ground.dockerSkipReason)('a start with --mount --mount-string (what cluster:up --data passes) is taken, and the profile keeps the mount', async () => {
      await inSandbox('node-gone-mounted', async () => {
        expect(await readProfile(profile)).toMatchObject({ driver: 'docker', mountString: recordedMount, valid: true })
      })
    })

    it('profileNameProblem agrees with `minikube profile NAME` (exit 0 valid, 14 invalid, 11 reserved)', async () => {
      const names = [
        // minikube's own examples (pkg/minikube/config/profile_test.go)
        ...['profile', 'pro-file', 'profile1', 'pro-file1', '1st-profile', '1st-2nd-3rd-profile', '12567', '111'],
        ...['1', 'n', 'pro file', 'pro-file-', '-profile', 'meaningful_name', 'meaningful_name@', 'n_a_m_e_2', '_name', 'N__a.M--E12567'],
        ...['start', 'stop', 'status', 'delete', 'config', 'open', 'addons', 'cache', 'logs', 'Logs', 'log', 'myprofile'],
        // dots, length, non-ASCII
        ...['a.b', 'spark.k8s-1', 'a..b', '.ab', 'ab.', '', 'ab', 'x'.repeat(80), 'héllo', 'UPPER-case'],
      ]
      const sandbox = await Sandbox.create(ground.binary!)
      try {
        const disagreements: string[] = []
        for (const name of names) {
          const result = await sandbox.run(['profile', '--', name])
          const problem = profileNameProblem(name)
          if (![0, 11, 14].includes(result.exitCode)) disagreements.push(`"${name}": minikube exited ${result.exitCode}: ${result.stderr}`)
          else if ((result.exitCode === 0) !== (problem === undefined)) disagreements.push(`"${name}": minikube exit ${result.exitCode}, ours: ${problem ?? 'valid'}`)
          else if (result.exitCode === 11 && !problem?.includes('reserve')) disagreements.push(`"${name}": minikube says reserved, ours: ${problem}`)
        }
        expect(disagreements).toEqual([])
      } finally {
        await sandbox.remove()
      }
    })
  })
})

function maskNumbers(word: string): string {
  return word.replace(/^\d+(mb)?$/, 'N$1')
}

/** Runs `body` with process.env pointing minikube (through scripts/lib/proc.ts) at a prepared sandbox. */
async function inSandbox(setup: Setup, body: () => Promise<void>): Promise<void> {
  const sandbox = await Sandbox.create(ground.binary!)
  const saved = { ...process.env }
  try {
    await sandbox.prepare(setup)
    for (const key of Object.keys(process.env)) delete process.env[key]
    Object.assign(process.env, sandbox.env())
    await body()
  } finally {
    for (const key of Object.keys(process.env)) delete process.env[key]
    Object.assign(process.env, saved)
    await sandbox.remove()
  }
}
