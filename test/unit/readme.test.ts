// The README's configuration table and commands must match what the code accepts, and what it quotes
// the tool printing must be what the code prints (how it marks quotes: test/unit/readme-quotes.ts).
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KubernetesObject } from '@kubernetes/client-node'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { bundleEntry } from '../../scripts/build.ts'
import { authVolume } from '../../scripts/lib/cluster-secret.ts'
import { npmScriptOf, optionSpecs, parseConfig } from '../../scripts/lib/config.ts'
import { apiErrorMessage, errorMessage } from '../../scripts/lib/errors.ts'
import { podBlocker, unschedulableGraceMs, type Kube } from '../../scripts/lib/kube/kube.ts'
import { loadManifests, ourLabels, renderCluster } from '../../scripts/lib/manifests.ts'
import { dockerDir, repoRoot } from '../../scripts/lib/paths.ts'
import { secretConfAnswer, useFakeEngine } from './fake-engine.ts'
import { fake, type CannedResult } from './fake-proc.ts'
import { imageQuotes, messageQuotes, readme, unmatched } from './readme-quotes.ts'

vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))
const { buildImage, imageReference } = await import('../../scripts/build-image.ts')
const { startMinikube } = await import('../../scripts/minikube-start.ts')
const { requireRunningMinikube } = await import('../../scripts/lib/target.ts')
const { applyToKubernetes } = await import('../../scripts/lib/kube/apply.ts')
const { loadIntoMinikube } = await import('../../scripts/lib/kube/minikube-image.ts')
const { requireSamePython } = await import('../../scripts/connect.ts')
const { applyToDocker } = await import('../../scripts/lib/docker/apply.ts')
const { specHashLabel } = await import('../../scripts/lib/docker/containers.ts')

const scripts = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).scripts as Record<string, string>
const manifests = loadManifests()
const scratch = mkdtempSync(join(tmpdir(), 'ssk8s-readme-'))
const engine = useFakeEngine()
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe('README', () => {
  it('documents every flag and env var in its configuration table', () => {
    for (const spec of optionSpecs) {
      expect(readme, spec.flag).toMatch(new RegExp(`\\| \`${spec.flag}\``))
      if (spec.env) expect(readme, spec.env).toContain(`\`${spec.env}\``)
    }
  })

  it('names only npm scripts that exist, and every command has one', () => {
    const named = [...readme.matchAll(/npm run ([a-z:]+)/g)].map((match) => match[1])
    expect(named.length).toBeGreaterThan(5)
    for (const name of named) expect(Object.keys(scripts), name).toContain(name)
    for (const script of Object.values(npmScriptOf)) expect(scripts[script]).toMatch(/^node dist\/tasks\.js /)
  })

  it('gives the two set-up commands, and .ci/run runs the same test command', () => {
    expect(readme).toContain('npm ci && npm run cluster:up')
    expect(readme).toContain('npm ci && npm test')
    expect(readFileSync(join(repoRoot, '.ci/run'), 'utf8')).toMatch(/^npm test\b/m)
  })
})

/** The image references cluster:up builds with the default flags, for each Python an image can carry. */
const references = ['3.10', '3.11', '3.12', '3.13'].map((python) => imageReference(parseConfig('up', ['--python', python]), dockerDir))

/** Runs the bundle where it needs no cluster (a bad flag; a Docker engine that is not there); its stderr. */
function cliStderr(args: string[]): string {
  const env = { ...process.env, CI: 'true', DOCKER_HOST: `unix://${join(scratch, 'no-docker.sock')}` }
  return spawnSync(process.execPath, [bundleEntry, ...args], { encoding: 'utf8', env }).stderr
}

/** A Kubernetes API on which these objects are already as declared. */
function unchangedKube(live: KubernetesObject[]): Kube {
  const read = async ({ kind, metadata }: KubernetesObject) => live.find((o) => o.kind === kind && o.metadata?.name === metadata?.name)
  const patch = async (object: KubernetesObject) => object
  return { k8s: { PatchStrategy: { ServerSideApply: 'application/apply-patch+yaml' } }, core: { readNamespace: async () => ({}) }, objects: { read, patch } } as unknown as Kube
}

/**
 * A second cluster:up on Docker: the first one is run on an empty engine and what it made is
 * recorded, then the second finds exactly that (the network, volumes, secret and containers).
 */
async function secondApplyOnDocker(): Promise<unknown> {
  const shape = { image: 'spark:1', namespace: 'default', workers: 2, workerCores: 1, workerMemory: '1g' }
  let conf: string | undefined
  const made = new Set<string>()
  fake.reset((command) => {
    const [, verb, sub] = command.argv
    if (sub === 'inspect') return made.has(command.argv.at(-1)!) ? { stdout: JSON.stringify(ourLabels(manifests)) } : { exitCode: 1, stderr: 'not found' }
    if (sub === 'create') made.add(command.argv.at(-1)!)
    if (verb === 'run' && command.argv.at(-2) === 'spark-defaults.conf') conf = String(command.options.input)
    if (verb === 'ps') return { stdout: containers.join('\n') }
    return undefined
  })
  engine.reset((request) => (request.url === '/info' ? { json: { NCPU: 8, MemTotal: 16 * 2 ** 30 } } : secretConfAnswer(request, conf)))
  const containers: string[] = []
  await applyToDocker(manifests, shape, { uiKill: false, workerCores: 1 })
  for (const { argv } of fake.calls.filter((call) => call.argv[1] === 'run' && call.argv.includes('--detach'))) {
    const label = (key: string) => argv.find((arg) => arg.startsWith(`${key}=`))?.slice(key.length + 1) ?? ''
    containers.push([`id-${containers.length}`, argv[argv.indexOf('--name') + 1], 'running', 'Up', shape.image, label(specHashLabel), 'spark', label('role')].join('\t'))
  }
  return applyToDocker(manifests, shape, { uiKill: false, workerCores: 1 })
}

/** What the tool prints in the situations the README quotes, from the code itself with sample inputs. */
async function printedMessages(): Promise<string[]> {
  const config = parseConfig('up', ['--python', '3.11'])
  const messages: string[] = []
  const said = async (run: () => unknown) => {
    try {
      const outcome = await run()
      messages.push(outcome && typeof outcome === 'object' && 'skipped' in outcome ? String(outcome.skipped) : String(outcome))
    } catch (error) {
      messages.push(errorMessage(error))
    }
  }
  // A second cluster:up: the image is there, the objects are as declared.
  await said(() => buildImage(imageReference(config, dockerDir), config, undefined, Promise.resolve(true)))
  const rendered = renderCluster(manifests, { image: 'spark:1', namespace: 'default', workers: 2, workerCores: 1, workerMemory: '1g' })
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: authVolume(manifests).name } }
  const objects = [secret, rendered.recoveryClaim, rendered.eventsClaim, rendered.master, rendered.service, rendered.networkPolicy, rendered.worker, rendered.workerBudget] as KubernetesObject[]
  await said(() => applyToKubernetes(unchangedKube(objects), objects, 'default', [secret]))
  await said(secondApplyOnDocker)
  // An existing minikube profile too small for two workers (minikube's own recorded profile list, resized).
  const list = JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/minikube/v1.37.0/profile-list-json-node-gone.json'), 'utf8')) as CannedResult & { stdout: string }
  const profiles = JSON.parse(list.stdout)
  Object.assign(profiles.valid[0], { Name: 'minikube' })
  Object.assign(profiles.valid[0].Config, { Name: 'minikube', Memory: 4000, CPUs: 2 })
  fake.answerByPrefix({ 'minikube profile list': { ...list, stdout: JSON.stringify(profiles) }, 'minikube status': { exitCode: 7, stdout: JSON.stringify({ Name: 'minikube', Host: 'Stopped', Kubelet: 'Stopped', APIServer: 'Stopped', Kubeconfig: 'Stopped' }) } })
  await said(() => startMinikube({ ...config, profile: 'minikube', workers: 3 }, manifests))
  await said(() => requireRunningMinikube('minikube'))
  // `minikube image load` exits 0, and the node still does not list the image.
  const noProfiles = JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/minikube/v1.37.0/profile-list-json-no-profiles.json'), 'utf8')) as CannedResult
  fake.answerByPrefix({ 'minikube profile list': noProfiles, 'minikube -p minikube image': {} })
  await said(() => loadIntoMinikube('minikube', imageReference(config, dockerDir), `sha256:${'ab'.repeat(32)}`))
  // npm run connect from a client of another Python than the executors'.
  await said(() => requireSamePython('3.11', '3.12', config.sparkVersion))
  // A worker the scheduler cannot place; a request the API server forbids.
  const pending = { metadata: { name: 'spark-worker-5d9c7b-x2x4q', uid: 'u1' }, status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.' }] } }
  messages.push(podBlocker(pending, new Map([['u1', 0]]), unschedulableGraceMs) ?? '')
  messages.push(apiErrorMessage({ code: 403, body: { reason: 'Forbidden', message: 'deployments.apps is forbidden: User "system:serviceaccount:dev:ci" cannot list resource "deployments" in API group "apps" in the namespace "default"' } }))
  // A Spark container on a conf without authentication: the image's own gate.
  const gate = spawnSync('sh', [join(dockerDir, 'require-auth'), 'true'], { encoding: 'utf8', env: { ...process.env, SPARK_CONF_DIR: scratch } })
  messages.push(gate.stderr)
  // The command line itself: a bad flag, and a Docker engine that does not answer.
  messages.push(cliStderr(['up', '--workers', 'many']))
  messages.push(...cliStderr(['up', '--platform', 'docker']).split('\n'))
  return messages.filter(Boolean)
}

describe("what the README quotes the tool printing", () => {
  it('shows image references and tag forms the build makes', () => {
    expect(imageQuotes(readme).length).toBeGreaterThan(0)
    const tags = references.map((reference) => reference.slice(reference.indexOf(':') + 1))
    expect(unmatched(imageQuotes(readme), [...references, ...tags], true)).toEqual([])
  })

  it('quotes only messages the code prints', async () => {
    const printed = await printedMessages()
    expect(messageQuotes(readme).length).toBeGreaterThan(5)
    expect(unmatched(messageQuotes(readme), printed)).toEqual([])
  })
})
