// The same on Kubernetes: a running server's Deployment is re-applied (server-side apply then decides
// whether its pods roll, kube-apply.test.ts), one that is missing or scaled to 0 is not applied at all.
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { authConfAnnotation, authConfDigest, sparkAuthConf } from '../../scripts/lib/cluster-secret.ts'
import { parseConfig } from '../../scripts/lib/config.ts'
import type { Kube } from '../../scripts/lib/kube/kube.ts'
import { loadManifests, podTemplate } from '../../scripts/lib/manifests.ts'
import { makeTarget } from '../../scripts/lib/target.ts'

const repaired = sparkAuthConf({ uiKill: false, workerCores: 1 }, 'c'.repeat(64), 'd'.repeat(64))
vi.mock('../../scripts/lib/kube/secret.ts', () => ({
  declaredAuthSecret: vi.fn(async (_kube: unknown, _manifests: unknown, namespace: string) => ({
    secret: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'spark-auth', namespace } },
    conf: repaired,
    change: { kind: 'repaired', why: 'its spark-defaults.conf is empty' },
  })),
  liveAuthConf: vi.fn(async () => repaired),
}))
vi.mock('../../scripts/lib/kube/recovery.ts', () => ({ planRecoveryStorage: vi.fn(async (_kube: unknown, claim: unknown, master: unknown) => ({ claim, master })) }))
const applied: KubernetesObject[][] = []
vi.mock('../../scripts/lib/kube/apply.ts', () => ({
  applyToKubernetes: vi.fn(async (_kube: unknown, objects: KubernetesObject[]) => {
    applied.push(objects)
    return { done: objects.map((o) => `${o.kind!.toLowerCase()}/${o.metadata!.name} configured`).join(', ') }
  }),
}))
// JupyterLab's tag hashes docker/notebook/ (test/unit/notebook.test.ts tests it): here a fixed one per cluster image.
vi.mock('../../scripts/lib/notebook-image.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../scripts/lib/notebook-image.ts')>()
  return { ...original, notebookImageReference: (clusterImage: string) => `${original.localClusterImage(clusterImage)}-notebook-abcdefabcdef` }
})
const { applyCluster } = await import('../../scripts/apply.ts')

const image = 'registry:5000/spark-standalone:4.3.0-py3.11-0123456789ab'
const manifests = loadManifests()

/** A fake API holding these server Deployments. */
function kubeWith(deployments: Record<string, V1Deployment>): Kube {
  const notFound = Object.assign(new Error('not found'), { code: 404 })
  return { apps: { readNamespacedDeployment: async ({ name }: { name: string }) => deployments[name] ?? Promise.reject(notFound) } } as unknown as Kube
}

/** The Connect Deployment as `npm run connect` applied it on the conf before the repair. */
function connectOn(conf: string, replicas = 1): V1Deployment {
  const deployment = structuredClone(manifests.connect.deployment)
  deployment.spec!.replicas = replicas
  podTemplate(deployment).spec!.containers[0].image = image
  podTemplate(deployment).metadata!.annotations = { [authConfAnnotation]: authConfDigest(conf), 'spark-standalone-k8s/storage': '{}' }
  return deployment
}

const target = (deployments: Record<string, V1Deployment>) => makeTarget(parseConfig('up', ['--platform', 'kubernetes'], {}), 'kubernetes', manifests, async () => kubeWith(deployments))

beforeEach(() => void applied.splice(0))

describe('applyCluster brings the running servers along (Kubernetes)', () => {
  it('re-applies a running Connect Deployment with the repaired conf, and says why it rolled', async () => {
    const result = await applyCluster(target({ 'spark-connect': connectOn('spark.authenticate true\n') }), image, {}, 2)
    expect(applied).toHaveLength(2)
    const [deployment, service] = applied[1] as [V1Deployment, KubernetesObject]
    expect([deployment.metadata!.name, service.kind]).toEqual(['spark-connect', 'Service'])
    expect(podTemplate(deployment).metadata!.annotations![authConfAnnotation]).toBe(authConfDigest(repaired))
    expect(result.rolled.map((server) => server.what)).toEqual(['Spark Connect server'])
    expect('done' in result.outcome && result.outcome.done).toMatch(/; secret\/spark-auth repaired \(its spark-defaults\.conf is empty\): a new secret; Spark Connect server rolled: conf changed$/)
  })

  it('applies no server that is missing or scaled to 0', async () => {
    for (const deployments of [{}, { 'spark-connect': connectOn(repaired, 0) }] as Array<Record<string, V1Deployment>>) {
      applied.splice(0)
      const result = await applyCluster(target(deployments), image, {}, 2)
      expect(applied).toHaveLength(1)
      expect(result.rolled).toEqual([])
    }
  })

  it("re-applies a running JupyterLab with its own notebooks claim first, on the image it runs", async () => {
    const lab = structuredClone(manifests.notebook.deployment)
    const labImage = `${image}-notebook-abcdefabcdef@sha256:${'f'.repeat(64)}`
    podTemplate(lab).spec!.containers[0].image = labImage
    podTemplate(lab).metadata!.annotations = { [authConfAnnotation]: authConfDigest('spark.authenticate true\n'), 'spark-standalone-k8s/storage': '{}' }
    const result = await applyCluster(target({ 'spark-notebook': lab }), image, {}, 2)
    expect(applied[1].map((o) => `${o.kind}/${o.metadata!.name}`)).toEqual(['PersistentVolumeClaim/spark-notebooks', 'Deployment/spark-notebook', 'Service/spark-notebook'])
    expect(podTemplate(applied[1][1] as V1Deployment).spec!.containers[0].image).toBe(labImage)
    expect(result.rolled.map((server) => server.what)).toEqual(['JupyterLab'])
  })
})
