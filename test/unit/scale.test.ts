// npm run scale on Docker: new workers copy the running ones, the conf they started on included.
import { describe, expect, it, vi } from 'vitest'
import { authConfAnnotation, withAuthConfDigest } from '../../scripts/lib/cluster-secret.ts'
import { parseConfig } from '../../scripts/lib/config.ts'
import { dockerLayout, encodeShape, workerPlans } from '../../scripts/lib/docker/containers.ts'
import { loadManifests, renderCluster, type ClusterShape } from '../../scripts/lib/manifests.ts'
import { withStorage } from '../../scripts/lib/storage.ts'
import { makeTarget } from '../../scripts/lib/target.ts'
import { fake } from './fake-proc.ts'

vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))
const { setWorkerCount } = await import('../../scripts/scale.ts')

const manifests = loadManifests()
const layout = dockerLayout(manifests)
const shape: ClusterShape = { image: 'spark-standalone:4.3.0-0123456789ab', namespace: 'default', workers: 2, workerCores: 1, workerMemory: '1g' }
const digest = '0123456789abcdef'

describe('setWorkerCount on Docker', () => {
  it("gives new workers the running workers' conf digest, leaving those alone", async () => {
    const plans = workerPlans(withAuthConfDigest(renderCluster(manifests, shape).worker, digest), layout, 2, encodeShape(shape))
    // docker ps fields: id, name, state, status, image, spec hash, then the labels app, role, shape, auth conf digest.
    const listing = plans.map((plan) => [`id-${plan.name}`, plan.name, 'running', 'Up', shape.image, plan.specHash, 'spark', 'worker', encodeShape(shape), digest].join('\t')).join('\n')
    fake.reset((command) => (command.line.startsWith('docker ps') ? { stdout: listing } : undefined))
    const target = makeTarget(parseConfig('scale', ['3', '--platform', 'docker'], {}), 'docker', manifests)
    expect(await setWorkerCount(target, 3)).toEqual({ done: 'spark-worker-3 created', expected: { count: 3, cores: 1, memory: '1g' } })
    const started = fake.lines().filter((line) => line.startsWith('docker run'))
    expect(started).toHaveLength(1)
    expect(started[0]).toContain('--name spark-worker-3 ')
    expect(started[0]).toContain(`--label ${authConfAnnotation}=${digest}`)
  })

  it('gives new workers the data the running ones mount, so those are left alone and the new one has it too', async () => {
    const storage = { data: { source: { hostPath: { path: '/home/me/lake' } }, mountPath: '/data', what: 'folder /home/me/lake' }, groups: [1000] }
    const worker = withAuthConfDigest(renderCluster(manifests, shape).worker, digest)
    withStorage(worker.spec!.template, storage)
    const plans = workerPlans(worker, layout, 2, encodeShape(shape))
    // docker ps fields: id, name, state, status, image, spec hash, then the labels app, role, shape, auth conf digest, storage.
    const listing = plans.map((plan) => [`id-${plan.name}`, plan.name, 'running', 'Up', shape.image, plan.specHash, 'spark', 'worker', encodeShape(shape), digest, JSON.stringify(storage)].join('\t')).join('\n')
    fake.reset((command) => (command.line.startsWith('docker ps') ? { stdout: listing } : undefined))
    const target = makeTarget(parseConfig('scale', ['3', '--platform', 'docker'], {}), 'docker', manifests)
    expect(await setWorkerCount(target, 3)).toEqual({ done: 'spark-worker-3 created', expected: { count: 3, cores: 1, memory: '1g' } })
    const started = fake.lines().filter((line) => line.startsWith('docker run'))
    expect(started).toHaveLength(1)
    expect(started[0]).toContain('type=bind,"source=/home/me/lake",target=/data')
    expect(started[0]).toContain('--group-add 1000')
  })
})
