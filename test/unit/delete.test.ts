// cluster:down on Kubernetes: every kind the tool makes, found by our labels, against a fake API.
import type { KubernetesObject } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'
import { deleteCluster } from '../../scripts/delete.ts'
import { parseConfig } from '../../scripts/lib/config.ts'
import type { Kube } from '../../scripts/lib/kube/kube.ts'
import { loadManifests } from '../../scripts/lib/manifests.ts'
import { withStorage } from '../../scripts/lib/storage.ts'
import { makeTarget } from '../../scripts/lib/target.ts'

const manifests = loadManifests()

/** A fake API holding `objects` (by apiVersion/kind) that lists by selector, deletes and watches (never firing). */
function fakeKube(objects: KubernetesObject[]) {
  const store = new Map(objects.map((o) => [`${o.apiVersion}/${o.kind}/${o.metadata!.name}`, o]))
  const lists: string[] = []
  const kube = {
    config: {},
    k8s: { Watch: class { watch = async () => ({ abort: () => undefined }) } },
    objects: {
      list: async (apiVersion: string, kind: string, _namespace: string, ...rest: unknown[]) => {
        lists.push(`${apiVersion}/${kind} ${String(rest[4])}`)
        return { items: [...store.values()].filter((o) => o.apiVersion === apiVersion && o.kind === kind) }
      },
      delete: async (o: KubernetesObject) => void store.delete(`${o.apiVersion}/${o.kind}/${o.metadata!.name}`),
    },
  }
  return { kube: kube as unknown as Kube, store, lists }
}

describe('deleteCluster on Kubernetes', () => {
  it("deletes the master's NetworkPolicy with the rest, found by our labels", async () => {
    const { kube, store, lists } = fakeKube([manifests.master, manifests.masterPolicy, manifests.workerBudget])
    const config = parseConfig('down', ['--platform', 'kubernetes', '--context', 'lab'], {})
    const target = makeTarget(config, 'kubernetes', manifests, async () => kube)
    const outcome = await deleteCluster(target)
    expect(lists).toContain('networking.k8s.io/v1/NetworkPolicy app=spark,app.kubernetes.io/managed-by=spark-standalone-k8s')
    expect(outcome).toEqual({ done: 'deleted deployment/spark-master, poddisruptionbudget/spark-worker, networkpolicy/spark-master and their pods' })
    expect(store.size).toBe(0)
  })

  it('says where the data the master mounted stays: the claim is not ours, so it is never listed or deleted', async () => {
    const master = structuredClone(manifests.master)
    withStorage(master.spec!.template, { data: { source: { persistentVolumeClaim: { claimName: 'lake' } }, mountPath: '/data', what: 'claim lake' } })
    const { kube } = fakeKube([master])
    const target = makeTarget(parseConfig('down', ['--platform', 'kubernetes', '--context', 'lab'], {}), 'kubernetes', manifests, async () => kube)
    expect(await deleteCluster(target)).toEqual({ done: 'deleted deployment/spark-master and their pods; your data stays: claim lake at /data' })
  })
})
