// Deploy by ID on minikube without --registry: the pods name the loaded image's ID (which nothing
// tagged later in the node can take over), its name:tag in an annotation the version readers see;
// a pod made later from the cluster's image runs exactly what the master runs, whichever --registry
// the later command was given. The node's `docker save` / `minikube image ls` and the API are faked.
import type { KubernetesObject, V1Deployment, V1Job, V1Pod } from '@kubernetes/client-node'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { authConfAnnotation, authConfDigest, sparkAuthConf } from '../../scripts/lib/cluster-secret.ts'
import { parseConfig } from '../../scripts/lib/config.ts'
import type { Kube } from '../../scripts/lib/kube/kube.ts'
import { imageAnnotation } from '../../scripts/lib/kube/pod-image.ts'
import { loadManifests, podTemplate, renderPiJob, renderShellPod } from '../../scripts/lib/manifests.ts'
import { notebookImageReference } from '../../scripts/lib/notebook-image.ts'
import { makeTarget } from '../../scripts/lib/target.ts'
import { fake } from './fake-proc.ts'

vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))
const conf = sparkAuthConf({ uiKill: false, workerCores: 1 }, 'c'.repeat(64), 'd'.repeat(64))
vi.mock('../../scripts/lib/kube/secret.ts', () => ({
  declaredAuthSecret: vi.fn(async (_kube: unknown, _manifests: unknown, namespace: string) => ({ secret: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'spark-auth', namespace } }, conf })),
  liveAuthConf: vi.fn(async () => conf),
}))
vi.mock('../../scripts/lib/kube/recovery.ts', () => ({ planRecoveryStorage: vi.fn(async (_kube: unknown, claim: unknown, master: unknown) => ({ claim, master })) }))
const applied: KubernetesObject[] = []
vi.mock('../../scripts/lib/kube/apply.ts', () => ({
  applyToKubernetes: vi.fn(async (_kube: unknown, objects: KubernetesObject[]) => {
    applied.push(...objects)
    return { done: 'configured' }
  }),
}))
const { applyCluster } = await import('../../scripts/apply.ts')
const { clusterDrivers, sparkVersionOf } = await import('../../scripts/lib/cluster-image.ts')
const { pythonVersionOf } = await import('../../scripts/lib/python-version.ts')

const manifests = loadManifests()
const reference = 'spark-standalone:4.0.1-py3.11-0123456789ab'
const id = `sha256:${'ab'.repeat(32)}`
const pushed = `registry:5000/${reference}@sha256:${'cd'.repeat(32)}`

/** What the master (or a server) runs: the container's image and the pod template's annotations. */
function deploymentOf(source: V1Deployment, image: string, annotations: Record<string, string>): V1Deployment {
  const deployment = structuredClone(source)
  podTemplate(deployment).spec!.containers[0].image = image
  podTemplate(deployment).metadata = { ...podTemplate(deployment).metadata, annotations }
  return deployment
}

/** A fake API holding these Deployments; the Job or Pod a command creates is recorded and refused (the test ends there). */
function kubeWith(deployments: Record<string, V1Deployment>, created: KubernetesObject[]): Kube {
  const notFound = Object.assign(new Error('not found'), { code: 404 })
  const refuse = async ({ body }: { body: KubernetesObject }) => {
    created.push(body)
    throw new Error('refused by the fake API')
  }
  return {
    apps: { readNamespacedDeployment: async ({ name }: { name: string }) => deployments[name] ?? Promise.reject(notFound) },
    batch: { createNamespacedJob: refuse, deleteNamespacedJob: async () => ({}) },
    core: { createNamespacedPod: refuse, deleteNamespacedPod: async () => ({}) },
  } as unknown as Kube
}

const minikubeTarget = (flags: string[], deployments: Record<string, V1Deployment> = {}, created: KubernetesObject[] = []) =>
  makeTarget(parseConfig('up', ['--platform', 'minikube', ...flags], {}), 'minikube', manifests, async () => kubeWith(deployments, created))

const containerOf = (object: V1Deployment | V1Job) => podTemplate(object).spec!.containers[0]
const annotationsOf = (object: V1Deployment | V1Job) => podTemplate(object).metadata?.annotations ?? {}

beforeEach(() => {
  applied.splice(0)
  // This machine's engine reports the image's ID; the node holds it already (`minikube image ls --format json`).
  fake.reset((command) => ({ stdout: command.line.startsWith('docker image inspect') ? `${id}\n` : JSON.stringify([{ id, repoDigests: [], repoTags: [`docker.io/library/${reference}`], size: '1000' }]) }))
})

describe('cluster:up on minikube without --registry deploys the image by its ID', () => {
  it('publishes it as name:tag@<ID>, says so, and the master and workers run the ID with the name:tag in an annotation', async () => {
    const target = minikubeTarget([])
    const published = await target.runtime.publishImage(reference)
    expect(published).toEqual({ skipped: `image ${reference} already in minikube minikube; deployed by its ID ${id}`, image: `${reference}@${id}` })
    await applyCluster(target, published.image, {}, target.config.workers)
    const deployments = applied.filter((o): o is V1Deployment => o.kind === 'Deployment')
    expect(deployments.map((d) => [d.metadata!.name, containerOf(d).image, annotationsOf(d)[imageAnnotation]])).toEqual([
      ['spark-master', id, reference],
      ['spark-worker', id, reference],
    ])
  })

  it('rolls a running Connect server onto the ID without calling it an image change when it already runs that ID', async () => {
    const connect = deploymentOf(manifests.connect.deployment, id, { [imageAnnotation]: reference, [authConfAnnotation]: authConfDigest('spark.authenticate true\n'), 'spark-standalone-k8s/storage': '{}' })
    const target = minikubeTarget([], { 'spark-connect': connect })
    const result = await applyCluster(target, (await target.runtime.publishImage(reference)).image, {}, target.config.workers)
    const rolled = applied.find((o): o is V1Deployment => o.metadata?.name === 'spark-connect')!
    expect([containerOf(rolled).image, annotationsOf(rolled)[imageAnnotation]]).toEqual([id, reference])
    expect('done' in result.outcome && result.outcome.done).toMatch(/Spark Connect server rolled: conf changed$/)
  })

  it('rolls a running JupyterLab, which runs its own image by ID, onto that same ID (never its name:tag@<ID> string, which no node resolves)', async () => {
    // Built on this cluster image, so cluster:up rolls it rather than removing it.
    const notebookReference = notebookImageReference(reference)
    const notebookId = `sha256:${'ef'.repeat(32)}`
    const notebook = deploymentOf(manifests.notebook.deployment, notebookId, { [imageAnnotation]: notebookReference, [authConfAnnotation]: authConfDigest('spark.authenticate true\n'), 'spark-standalone-k8s/storage': '{}' })
    const target = minikubeTarget([], { 'spark-notebook': notebook })
    await applyCluster(target, (await target.runtime.publishImage(reference)).image, {}, target.config.workers)
    const rolled = applied.find((o): o is V1Deployment => o.metadata?.name === 'spark-notebook')!
    expect([containerOf(rolled).image, annotationsOf(rolled)[imageAnnotation]]).toEqual([notebookId, notebookReference])
  })
})

describe('a pod made from the cluster\'s image runs exactly what the master runs', () => {
  it('reads name:tag@<ID> off a master deployed by ID: the versions, and the ID with its annotation in the driver Job and the shell', async () => {
    const created: KubernetesObject[] = []
    // The cluster was loaded into the node; this command was given --registry (which it must not follow).
    const target = minikubeTarget(['--registry', 'registry:5000'], { 'spark-master': deploymentOf(manifests.master, id, { [imageAnnotation]: reference }) }, created)
    const { image } = await clusterDrivers(target)
    expect([image, sparkVersionOf(image), pythonVersionOf(image)]).toEqual([`${reference}@${id}`, '4.0.1', '3.11'])
    await expect(target.runtime.runDriver(renderPiJob(manifests, { image, namespace: 'default' }), {})).rejects.toThrow('refused by the fake API')
    await expect(target.runtime.runShell(renderShellPod(manifests, { image, namespace: 'default', tty: false }), false, () => {})).rejects.toThrow('refused by the fake API')
    const [job, pod] = created as [V1Job, V1Pod]
    expect([containerOf(job).image, annotationsOf(job)[imageAnnotation]]).toEqual([id, reference])
    expect([pod.spec!.containers[0].image, pod.metadata?.annotations?.[imageAnnotation]]).toEqual([id, reference])
  })

  it("pushes JupyterLab's image beside a cluster image pulled from a registry, for a notebook given no --registry; loads it into the node beside one loaded there", async () => {
    const pushedTarget = minikubeTarget([], { 'spark-master': deploymentOf(manifests.master, pushed, {}) })
    const onRegistry = (await clusterDrivers(pushedTarget)).image
    const notebookDigest = `sha256:${'12'.repeat(32)}`
    fake.reset((command) => (command.line.startsWith('docker push') ? { stdout: `abc: Pushed\nx: digest: ${notebookDigest} size: 1234\n` } : {}))
    const besidePushed = await pushedTarget.runtime.publishImage(notebookImageReference(onRegistry), onRegistry)
    expect(besidePushed.image).toBe(`${notebookImageReference(onRegistry)}@${notebookDigest}`)
    expect(fake.lines()).toEqual([`docker push ${notebookImageReference(onRegistry)}`])
    const loadedTarget = minikubeTarget([], { 'spark-master': deploymentOf(manifests.master, id, { [imageAnnotation]: reference }) })
    const inNode = (await clusterDrivers(loadedTarget)).image
    fake.reset((command) => ({ stdout: command.line.startsWith('docker image inspect') ? `${id}\n` : JSON.stringify([{ id, repoDigests: [], repoTags: [`docker.io/library/${notebookImageReference(inNode)}`], size: '1' }]) }))
    expect((await loadedTarget.runtime.publishImage(notebookImageReference(inNode), inNode)).image).toBe(`${notebookImageReference(inNode)}@${id}`)
    expect(fake.lines().some((line) => line.startsWith('docker push'))).toBe(false)
  })

  it('keeps the pushed digest of a master deployed from --registry, for a command given no --registry', async () => {
    const created: KubernetesObject[] = []
    const target = minikubeTarget([], { 'spark-master': deploymentOf(manifests.master, pushed, {}) }, created)
    const { image } = await clusterDrivers(target)
    expect(image).toBe(pushed)
    await expect(target.runtime.runDriver(renderPiJob(manifests, { image, namespace: 'default' }), {})).rejects.toThrow('refused by the fake API')
    const [job] = created as [V1Job]
    expect([containerOf(job).image, annotationsOf(job)[imageAnnotation]]).toEqual([pushed, undefined])
  })
})
