// cluster:up brings a running Connect server and History Server along with the cluster: rolled when
// their image, conf (secret, token, S3 keys) or mounts changed, left alone when not, never started.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { authConfAnnotation, authConfDigest, sparkAuthConf } from '../../scripts/lib/cluster-secret.ts'
import { parseConfig } from '../../scripts/lib/config.ts'
import { podTemplate } from '../../scripts/lib/manifests.ts'
import { describeRoll, rollReasons } from '../../scripts/lib/server.ts'
import { storageAnnotation, type ClusterStorage } from '../../scripts/lib/storage.ts'
import { makeTarget } from '../../scripts/lib/target.ts'
import { connectServer } from '../../scripts/lib/connect-server.ts'
import { secretConfAnswer, useFakeEngine } from './fake-engine.ts'
import { fake } from './fake-proc.ts'

vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))
// The cluster's own apply is tested in docker-apply.test.ts: here it has nothing to do.
vi.mock('../../scripts/lib/docker/apply.ts', () => ({ applyToDocker: vi.fn(async () => ({ skipped: 'network spark, volumes and 3 containers already as declared' })) }))
// JupyterLab's tag hashes docker/notebook/ (test/unit/notebook.test.ts tests it): here a fixed one per cluster image.
vi.mock('../../scripts/lib/notebook-image.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../scripts/lib/notebook-image.ts')>()
  return { ...original, notebookImageReference: (clusterImage: string) => `${original.localClusterImage(clusterImage)}-notebook-abcdefabcdef` }
})
const { applyCluster } = await import('../../scripts/apply.ts')

const target = makeTarget(parseConfig('up', ['--platform', 'docker'], {}), 'docker')
const image = 'spark-standalone:4.3.0-py3.11-0123456789ab'
const withS3 = sparkAuthConf({ uiKill: false, workerCores: 1, s3: { endpoint: 'http://s3:7070', region: 'us-east-1', pathStyle: true, accessKey: 'AK', secretKey: 'SK', from: 'env' } }, 'a'.repeat(64), 'b'.repeat(64))
const withoutS3 = sparkAuthConf({ uiKill: false, workerCores: 1 }, 'a'.repeat(64), 'b'.repeat(64))
const folder: ClusterStorage = { data: { source: { hostPath: { path: '/home/me/lake' } }, mountPath: '/data', what: 'folder /home/me/lake' } }
const engine = useFakeEngine()

/** `docker ps` fields: id, name, state, status, image, spec hash, then the labels app, role, shape, auth conf digest, storage. */
const container = (name: string, role: string, specHash: string, labels: { conf?: string; storage?: ClusterStorage; state?: string; image?: string } = {}) =>
  [`id-${name}`, name, labels.state ?? 'running', 'Up', labels.image ?? image, specHash, 'spark', role, '', labels.conf ? authConfDigest(labels.conf) : '', JSON.stringify(labels.storage ?? {})].join('\t')

/** Docker with these server containers, and the cluster's secret volume holding `conf`. */
function docker(servers: { connect?: string; history?: string; notebook?: string }, conf: string) {
  fake.reset((command) => {
    if (!command.line.startsWith('docker ps')) return undefined
    const role = /label=role=(\w+)/.exec(command.line)?.[1] as 'connect' | 'history' | 'notebook'
    return { stdout: servers[role] ?? '' }
  })
  engine.reset((request) => {
    if (request.url === '/volumes/spark-auth') return { json: { Name: 'spark-auth' } }
    return secretConfAnswer(request, conf)
  })
}

const specHashOf = (line: string) => /io\.spark-standalone-k8s\.spec-hash=([0-9a-f]+)/.exec(line)![1]
const runs = () => fake.lines().filter((line) => /^docker (run|rm)/.test(line))

beforeEach(() => fake.reset())

describe('rollReasons', () => {
  const rendered = (conf: string, storage: ClusterStorage, on = image) => connectServer(target).render(on, conf, storage)
  const live = (conf: string, storage: ClusterStorage, on = image) => {
    const template = podTemplate(rendered(conf, storage, on).deployment)
    return { image: on, annotations: template.metadata!.annotations! }
  }

  it('names what differs between the running server and its new rendering: image, conf, mounts', () => {
    expect(rollReasons(live(withS3, {}), rendered(withoutS3, {}))).toEqual(['conf'])
    expect(rollReasons(live(withS3, {}), rendered(withS3, folder))).toEqual(['mounts'])
    expect(rollReasons(live(withS3, {}, 'spark:old'), rendered(withoutS3, folder))).toEqual(['image', 'conf', 'mounts'])
    expect(rollReasons(live(withS3, folder), rendered(withS3, folder))).toEqual([])
    // The digest and the storage record are what the templates carry; never the conf itself.
    expect(live(withS3, {}).annotations).toMatchObject({ [authConfAnnotation]: authConfDigest(withS3), [storageAnnotation]: '{}' })
    expect(JSON.stringify(live(withS3, {}).annotations)).not.toContain(withS3.trim().split('\n')[1])
  })

  it('says it in the step line', () => {
    expect(describeRoll('Spark Connect server', ['conf'], 'container spark-connect replaced')).toBe('Spark Connect server rolled: conf changed')
    expect(describeRoll('History Server', ['image', 'mounts'], 'x')).toBe('History Server rolled: image and mounts changed')
    expect(describeRoll('History Server', ['image', 'conf', 'mounts'], 'x')).toBe('History Server rolled: image, conf and mounts changed')
    expect(describeRoll('History Server', [], 'deployment/spark-history configured')).toBe('History Server rolled: deployment/spark-history configured')
  })
})

describe('applyCluster brings the running servers along (Docker)', () => {
  it('rolls a Connect server that started on the conf with S3 once S3 is withdrawn, and leaves the History Server, whose conf is not its, alone; a second apply leaves both', async () => {
    // The containers as `npm run connect` and `npm run history` started them on the S3 conf.
    docker({ connect: container('spark-connect', 'connect', 'old', { conf: withS3 }), history: container('spark-history', 'history', 'none') }, withS3)
    const started = await applyCluster(target, image, {}, target.config.workers)
    const history = specHashOf(runs().find((line) => line.includes('--name spark-history'))!)
    docker({ connect: container('spark-connect', 'connect', 'old', { conf: withS3 }), history: container('spark-history', 'history', history) }, withoutS3)
    const applied = await applyCluster(target, image, {}, target.config.workers)
    expect(applied.outcome).toEqual({ done: 'Spark Connect server rolled: conf changed; network spark, volumes and 3 containers already as declared' })
    expect(applied.rolled.map((server) => server.what)).toEqual(['Spark Connect server'])
    expect(runs().map((line) => line.split(' ').slice(0, 4).join(' '))).toEqual(['docker rm --force spark-connect', 'docker run --detach --name'])
    const connect = runs()[1]
    expect(connect).toContain(`--label ${authConfAnnotation}=${authConfDigest(withoutS3)}`)
    expect(started.rolled.map((server) => server.what)).toEqual(['Spark Connect server', 'History Server'])

    docker({ connect: container('spark-connect', 'connect', specHashOf(connect), { conf: withoutS3 }), history: container('spark-history', 'history', history) }, withoutS3)
    const again = await applyCluster(target, image, {}, target.config.workers)
    expect(again).toEqual({ outcome: { skipped: 'network spark, volumes and 3 containers already as declared' }, rolled: [] })
    expect(runs()).toEqual([])
  })

  it('rolls both onto a new data folder, read-only for the History Server', async () => {
    docker({ connect: container('spark-connect', 'connect', 'old', { conf: withoutS3 }), history: container('spark-history', 'history', 'old') }, withoutS3)
    const applied = await applyCluster(target, image, folder, target.config.workers)
    expect(applied.outcome).toEqual({ done: 'Spark Connect server rolled: mounts changed; History Server rolled: mounts changed; network spark, volumes and 3 containers already as declared' })
    expect(runs().find((line) => line.includes('--name spark-history'))).toContain('"source=/home/me/lake",target=/data,readonly')
    expect(runs().find((line) => line.includes('--name spark-connect'))).toContain('"source=/home/me/lake",target=/data ')
  })

  it('starts no server that is not running (none, or one someone stopped), and reads no secret for it', async () => {
    for (const servers of [{}, { connect: container('spark-connect', 'connect', 'old', { state: 'exited' }), history: container('spark-history', 'history', 'old', { state: 'exited' }) }]) {
      docker(servers, withoutS3)
      expect(await applyCluster(target, image, folder, target.config.workers)).toEqual({ outcome: { skipped: 'network spark, volumes and 3 containers already as declared' }, rolled: [] })
      expect(runs()).toEqual([])
      expect(engine.requests).toEqual([])
    }
  })

  it('removes a Connect server the cluster can no longer run with a token (Spark 3.5), rather than leave it on the old conf', async () => {
    docker({ connect: container('spark-connect', 'connect', 'old', { conf: withS3 }) }, withoutS3)
    engine.reset((request) => (request.url.startsWith('/containers/json') ? { json: [{ Id: 'c1', Names: ['/spark-connect'], Labels: { role: 'connect' } }] } : request.method === 'DELETE' ? { status: 204 } : undefined))
    const applied = await applyCluster(target, 'spark-standalone:3.5.6-py3.11-0123456789ab', {}, target.config.workers)
    expect(applied.outcome).toEqual({ done: 'Spark Connect server removed: this cluster runs Spark 3.5.6, whose Spark Connect server cannot require a token; network spark, volumes and 3 containers already as declared' })
    expect(applied.rolled).toEqual([])
    expect(engine.requests.map((request) => `${request.method} ${request.url.split('?')[0]}`)).toContain('DELETE /containers/c1')
    expect(runs()).toEqual([])
  })

  const notebookOn = (cluster: string) => `${cluster}-notebook-abcdefabcdef@sha256:${'f'.repeat(64)}`
  const withToken = sparkAuthConf({ uiKill: false, workerCores: 1 }, 'a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64))

  it("rolls JupyterLab on the cluster's image onto a new data folder, on the image it runs, its notebooks moving to the folder's notebooks/", async () => {
    docker({ notebook: container('spark-notebook', 'notebook', 'old', { conf: withToken, image: notebookOn(image) }) }, withToken)
    const applied = await applyCluster(target, `${image}@sha256:${'e'.repeat(64)}`, folder, target.config.workers)
    expect(applied.outcome).toEqual({ done: 'JupyterLab rolled: mounts changed; network spark, volumes and 3 containers already as declared' })
    expect(applied.rolled.map((server) => server.what)).toEqual(['JupyterLab'])
    const lab = runs().find((line) => line.includes('--name spark-notebook'))!
    expect(lab).toContain('"source=/home/me/lake/notebooks",target=/opt/spark/notebooks')
    expect(lab).toContain(`sha256:${'f'.repeat(64)}`)
  })

  it("removes JupyterLab built on the cluster's previous image, saying its notebooks stay", async () => {
    docker({ notebook: container('spark-notebook', 'notebook', 'old', { conf: withToken, image: notebookOn('spark-standalone:4.3.0-py3.11-999999999999') }) }, withToken)
    engine.reset((request) => (request.url.startsWith('/containers/json') ? { json: [{ Id: 'n1', Names: ['/spark-notebook'], Labels: { role: 'notebook' } }] } : request.method === 'DELETE' ? { status: 204 } : request.url.startsWith('/volumes') ? { json: { Volumes: [] } } : undefined))
    const applied = await applyCluster(target, image, {}, target.config.workers)
    expect(applied.outcome).toEqual({ done: `JupyterLab removed: its image is not ${image}-notebook-abcdefabcdef, built on the cluster's image as it is now (npm run notebook builds it; your notebooks stay); network spark, volumes and 3 containers already as declared` })
    expect(engine.requests.map((request) => `${request.method} ${request.url.split('?')[0]}`)).toContain('DELETE /containers/n1')
    expect(runs()).toEqual([])
  })
})
