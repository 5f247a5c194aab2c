import type { V1Deployment, V1PersistentVolumeClaim } from '@kubernetes/client-node'
import { describe, expect, it, vi } from 'vitest'
import type { Kube } from '../../scripts/lib/kube/kube.ts'
import { planRecoveryStorage } from '../../scripts/lib/kube/recovery.ts'
import { loadManifests, podTemplate, renderCluster, workerDefaults } from '../../scripts/lib/manifests.ts'

const manifests = loadManifests()
const rendered = renderCluster(manifests, { ...workerDefaults(manifests), image: 'spark:1', namespace: 'data' })

const apiError = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code })

function fakeKube(options: { live?: boolean; classes?: Array<Record<string, string>> | 'forbidden'; dryRunClass?: string | 'namespace missing' }) {
  const patch = vi.fn(async (object: V1PersistentVolumeClaim, ..._options: unknown[]) => {
    if (options.dryRunClass === 'namespace missing') throw apiError(404)
    return { ...object, spec: { ...object.spec, storageClassName: options.dryRunClass } }
  })
  const kube = {
    k8s: { PatchStrategy: { ServerSideApply: 'application/apply-patch+yaml' } },
    objects: {
      read: vi.fn(async (header: unknown) => {
        if (options.live) return header
        throw apiError(404)
      }),
      list: vi.fn(async () => {
        if (options.classes === 'forbidden') throw apiError(403)
        return { items: (options.classes ?? []).map((annotations) => ({ metadata: { annotations } })) }
      }),
      patch,
    },
  }
  return { kube: kube as unknown as Kube, patch }
}

const recoveryVolume = (master: V1Deployment) => podTemplate(master).spec!.volumes!.find((volume) => volume.name === 'recovery')

describe('planRecoveryStorage', () => {
  it('keeps the claim when the cluster has a default StorageClass', async () => {
    const { kube } = fakeKube({ classes: [{}, { 'storageclass.kubernetes.io/is-default-class': 'true' }] })
    const plan = await planRecoveryStorage(kube, rendered.recoveryClaim, rendered.master)
    expect(plan.claim?.metadata?.name).toBe('spark-master-recovery')
    expect(recoveryVolume(plan.master)?.persistentVolumeClaim?.claimName).toBe('spark-master-recovery')
    expect(plan.note).toBeUndefined()
  })

  it('keeps a claim that exists already, whatever the classes', async () => {
    const { kube } = fakeKube({ live: true, classes: [] })
    expect((await planRecoveryStorage(kube, rendered.recoveryClaim, rendered.master)).claim).toBeDefined()
  })

  it('without a default class puts the state on an emptyDir of the claim\'s size, applies no claim, and says so', async () => {
    const { kube } = fakeKube({ classes: [{ 'storageclass.kubernetes.io/is-default-class': 'false' }] })
    const plan = await planRecoveryStorage(kube, rendered.recoveryClaim, rendered.master)
    expect(plan.claim).toBeUndefined()
    expect(recoveryVolume(plan.master)).toEqual({ name: 'recovery', emptyDir: { sizeLimit: '64Mi' } })
    expect(plan.note).toMatch(/no default StorageClass.*emptyDir.*survives a master crash/)
    // the rendered master itself is left as it was
    expect(recoveryVolume(rendered.master)?.persistentVolumeClaim).toBeDefined()
  })

  it('a user who may not list StorageClasses learns the default from a dry run of the claim', async () => {
    const withDefault = fakeKube({ classes: 'forbidden', dryRunClass: 'standard' })
    expect((await planRecoveryStorage(withDefault.kube, rendered.recoveryClaim, rendered.master)).claim).toBeDefined()
    expect(withDefault.patch.mock.calls[0][2]).toBe('All')
    const without = fakeKube({ classes: 'forbidden', dryRunClass: undefined })
    expect((await planRecoveryStorage(without.kube, rendered.recoveryClaim, rendered.master)).claim).toBeUndefined()
    const noNamespace = fakeKube({ classes: 'forbidden', dryRunClass: 'namespace missing' })
    expect((await planRecoveryStorage(noNamespace.kube, rendered.recoveryClaim, rendered.master)).note).toMatch(/could not tell whether there is a default StorageClass \(namespace data is new\).*emptyDir/)
  })
})
