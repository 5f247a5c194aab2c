// Cross-checks .github/workflows/smoke.yml against the CLI: every `npm run` line it runs names a
// real npm script and passes only flags that script accepts (a typo would only show up in CI).
// Schema validation and step order are covered by workflow.test.ts.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../scripts/lib/config.ts'
import { UsageError } from '../../scripts/lib/errors.ts'
import { clusterRequests, fits } from '../../scripts/lib/capacity.ts'
import { loadManifests } from '../../scripts/lib/manifests.ts'
import { controlPlane, minikubeSize } from '../../scripts/minikube-start.ts'
import { repoRoot } from '../../scripts/lib/paths.ts'
import { smokeInvocations as invocations, smokeSteps as steps } from '../smoke-workflow.ts'

const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string>; engines?: { node?: string } }
const manifests = loadManifests()

describe('.github/workflows/smoke.yml uses the CLI as it is', () => {
  it('runs the npm scripts of the README', () => {
    expect(invocations.map((i) => i.script)).toEqual(expect.arrayContaining(['cluster:up', 'pi', 'cluster:down']))
  })

  it('every npm script it runs exists in package.json and is a tasks.ts command', () => {
    for (const { script, command } of invocations) {
      expect(packageJson.scripts[script], script).toBeDefined()
      expect(command, `${script} is a tasks.ts command`).toBeDefined()
      expect(packageJson.scripts[script]).toBe(`node dist/tasks.js ${command}`)
    }
  })

  it('every flag it passes is accepted by that command', () => {
    expect(invocations.length).toBeGreaterThanOrEqual(3)
    for (const { script, command, args } of invocations) {
      let error: unknown
      try {
        parseConfig(command!, args, {}, manifests)
      } catch (e) {
        error = e
      }
      expect(error instanceof UsageError ? error.message : error, `npm run ${script} -- ${args.join(' ')}`).toBeUndefined()
    }
  })

  it('is sized for a 2-CPU runner: the profile cluster:up creates there holds minikube\'s control plane and every pod', () => {
    const up = invocations.find((i) => i.script === 'cluster:up')!
    const config = parseConfig('up', up.args, {}, manifests)
    // A private-repository runner: 2 CPUs, 7 GB, of which Docker reports about 6.7 GiB.
    const size = minikubeSize(manifests, config, { cpu: 2, memoryMiB: 6860 })
    expect(size.cpu).toBeLessThanOrEqual(2)
    const node = [{ cpu: size.cpu - controlPlane.cpu, memoryMiB: size.memoryMiB - controlPlane.memoryMiB }]
    expect(fits(clusterRequests(manifests, config), node), `${config.workers} workers in ${size.cpu} CPUs / ${size.memoryMiB} MiB`).toBe(true)
    // …and the check is not vacuous: the README default of 2 workers would not fit there.
    expect(fits(clusterRequests(manifests, { ...config, workers: 2 }), node)).toBe(false)
  })

  it('runs on the minikube platform', () => {
    for (const { script, command, args } of invocations) {
      expect(parseConfig(command!, args, {}, manifests).platform, script).toBe('minikube')
    }
  })

  it('sets up a Node major that satisfies engines.node', () => {
    const setupNode = steps.find((step) => String(step.uses ?? '').startsWith('actions/setup-node@'))
    expect(setupNode).toBeDefined()
    const major = Number(String(setupNode!.with?.['node-version']).split('.')[0])
    const minimumMajor = Number(/(\d+)/.exec(packageJson.engines?.node ?? '0')![1])
    expect(major).toBeGreaterThanOrEqual(minimumMajor)
  })
})
