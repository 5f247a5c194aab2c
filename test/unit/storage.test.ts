// The cluster's storage: --data / --data-claim turned into the pods' volumes (both runtimes), the
// host folder made writable for the Spark user, the checks on a claim, and the flags' bad forms.
import { mkdtempSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../scripts/lib/config.ts'
import { prepareHostFolder } from '../../scripts/lib/data-folder.ts'
import { planContainer } from '../../scripts/lib/docker/containers.ts'
import { StepError, UsageError } from '../../scripts/lib/errors.ts'
import type { Kube } from '../../scripts/lib/kube/kube.ts'
import { prepareKubeStorage } from '../../scripts/lib/kube/storage.ts'
import { loadManifests, podTemplate, renderPiJob } from '../../scripts/lib/manifests.ts'
import { storageOf, withStorage, type ClusterStorage } from '../../scripts/lib/storage.ts'
import { makeTarget } from '../../scripts/lib/target.ts'

const manifests = loadManifests()
const driver = () => podTemplate(renderPiJob(manifests, { image: 'spark-standalone:4.3.0-py3.11-0123456789ab', namespace: 'default' }))
const folder: ClusterStorage = { data: { source: { hostPath: { path: '/home/me/lake' } }, mountPath: '/data', what: 'folder /home/me/lake' }, groups: [1000] }
const claim: ClusterStorage = { data: { source: { persistentVolumeClaim: { claimName: 'lake' } }, mountPath: '/mnt/lake', what: 'claim lake' } }

describe('withStorage', () => {
  it('mounts a host folder in the pod, moves the event log to its spark-events/, joins its group and records itself', () => {
    const template = withStorage(driver(), folder)
    const spec = template.spec!
    expect(spec.volumes!.find((v) => v.name === 'data')).toEqual({ name: 'data', hostPath: { path: '/home/me/lake' } })
    expect(spec.volumes!.find((v) => v.name === 'events')).toEqual({ name: 'events', hostPath: { path: '/home/me/lake/spark-events' } })
    expect(spec.containers[0].volumeMounts).toEqual(expect.arrayContaining([{ name: 'data', mountPath: '/data' }, { name: 'events', mountPath: '/opt/spark/events' }]))
    expect(spec.securityContext?.supplementalGroups).toEqual([1000])
    expect(storageOf(template.metadata?.annotations)).toEqual(folder)
    // The run-time plan Docker makes of it: a bind mount each, and the group.
    const args = planContainer(template, { name: 'spark-pi-x', network: 'spark', restart: false }).runArgs
    expect(args.join(' ')).toContain('--mount type=bind,source=/home/me/lake,target=/data')
    expect(args.join(' ')).toContain('--mount type=bind,source=/home/me/lake/spark-events,target=/opt/spark/events')
    expect(args.join(' ')).toContain('--group-add 1000')
  })

  it('mounts a claim, with the event log in its spark-events/ by subPath of the same volume', () => {
    const spec = withStorage(driver(), claim).spec!
    expect(spec.volumes!.find((v) => v.name === 'data')).toEqual({ name: 'data', persistentVolumeClaim: { claimName: 'lake' } })
    // One volume per claim, or the kubelet never mounts the second: the data volume again, at its spark-events/.
    expect(spec.volumes!.filter((v) => v.persistentVolumeClaim).map((v) => v.name)).toEqual(['data'])
    expect(spec.containers[0].volumeMounts!.filter((m) => m.name === 'data')).toEqual([{ name: 'data', mountPath: '/opt/spark/events', subPath: 'spark-events' }, { name: 'data', mountPath: '/mnt/lake' }])
    expect(spec.securityContext?.supplementalGroups).toBeUndefined()
  })

  it("leaves the manifests' spark-events claim alone without data, and a template without an event-log volume gets only the data", () => {
    expect(withStorage(driver(), {}).spec!.volumes!.find((v) => v.name === 'events')).toEqual({ name: 'events', persistentVolumeClaim: { claimName: 'spark-events' } })
    expect(withStorage(driver(), { eventsOnEmptyDir: true }).spec!.volumes!.find((v) => v.name === 'events')).toEqual({ name: 'events', emptyDir: { sizeLimit: '64Mi' } })
    const master = withStorage(structuredClone(podTemplate(manifests.master)), folder).spec!
    expect(master.volumes!.map((v) => v.name)).toEqual(['spark-auth', 'tmp', 'recovery', 'data'])
    expect(storageOf(undefined)).toEqual({})
  })
})

describe('prepareHostFolder', () => {
  it("makes the folder and its spark-events/ group-writable with setgid, and names the folder's group", () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-'))
    const groups = prepareHostFolder(dir)
    // mkdtemp's 0700 gains the group's rwx and setgid, and nothing for others.
    expect(statSync(dir).mode & 0o7777).toBe(0o2770)
    const events = statSync(join(dir, 'spark-events')).mode
    expect([events & 0o2070, events & 0o002]).toEqual([0o2070, 0])
    const { gid } = statSync(dir)
    expect(groups).toEqual(gid === 0 ? [] : [gid])
    // A second run changes nothing.
    expect(prepareHostFolder(dir)).toEqual(groups)
  })
})

/** A fake API server's client: one claim (or none) and some nodes. */
function fakeKube(found: V1PersistentVolumeClaim | undefined, nodes: number): Kube {
  const notFound = Object.assign(new Error('persistentvolumeclaims "lake" not found'), { code: 404 })
  return {
    core: {
      readNamespacedPersistentVolumeClaim: async () => {
        if (!found) throw notFound
        return found
      },
      listNode: async () => ({ items: Array.from({ length: nodes }, (_, i) => ({ metadata: { name: `node-${i}` }, spec: {} })) }),
    },
  } as unknown as Kube
}

describe('prepareKubeStorage', () => {
  const target = (args: string[], kube: Kube, platform: 'kubernetes' | 'minikube' = 'kubernetes') => makeTarget(parseConfig('up', ['--platform', platform, ...args], {}), platform, manifests, async () => kube)
  const withModes = (modes: string[]): V1PersistentVolumeClaim => ({ metadata: { name: 'lake' }, spec: { accessModes: modes }, status: { phase: 'Bound', accessModes: modes } })

  it('mounts a ReadWriteMany claim, and a ReadWriteOnce one on a cluster of one node', async () => {
    expect(await prepareKubeStorage(target(['--data-claim', 'lake'], fakeKube(withModes(['ReadWriteMany']), 3)))).toEqual({ storage: claim.data && { data: { ...claim.data, mountPath: '/data' } } })
    expect((await prepareKubeStorage(target(['--data-claim', 'lake'], fakeKube(withModes(['ReadWriteOnce']), 1)))).storage.data?.what).toBe('claim lake')
  })

  it('refuses a missing claim, a ReadWriteOnce one on several nodes, a read-only one and a folder of this machine, each in one line', async () => {
    const refusal = async (args: string[], kube: Kube) => ((await prepareKubeStorage(target(args, kube)).catch((e: unknown) => e)) as StepError).message
    expect(await refusal(['--data-claim', 'lake'], fakeKube(undefined, 1))).toBe('--data-claim lake: there is no PersistentVolumeClaim lake in namespace default')
    expect(await refusal(['--data-claim', 'lake'], fakeKube(withModes(['ReadWriteOnce']), 2))).toBe('--data-claim lake is ReadWriteOnce: only pods on one node may mount it, and this cluster has 2 schedulable nodes')
    expect(await refusal(['--data-claim', 'lake'], fakeKube(withModes(['ReadOnlyMany']), 1))).toMatch(/^--data-claim lake is ReadOnlyMany: the master, every worker and every driver must mount it read-write/)
    const dir = mkdtempSync(join(tmpdir(), 'lake-'))
    expect(await refusal(['--data', dir], fakeKube(undefined, 1))).toBe(`--data ${dir} is a folder of this machine, which a cluster's nodes cannot see`)
  })

  it("on minikube mounts the node's view of the folder, which the profile was made with", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-'))
    const { storage } = await prepareKubeStorage(target(['--data', dir], fakeKube(undefined, 1), 'minikube'))
    expect(storage.data).toEqual({ source: { hostPath: { path: '/mnt/spark-data', type: 'Directory' } }, mountPath: '/data', what: `folder ${dir}` })
  })
})

describe('the data flags', () => {
  const parse = (args: string[]) => () => parseConfig('up', args, {})
  it('take an existing folder (made absolute), a claim name and an absolute path clear of the image', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-'))
    expect(parseConfig('up', ['--data', dir, '--data-path', '/mnt/lake'], {})).toMatchObject({ data: dir, dataPath: '/mnt/lake' })
    expect(parseConfig('up', ['--data-claim', 'lake'], {})).toMatchObject({ dataClaim: 'lake', dataPath: '/data' })
    const file = join(dir, 'a.csv')
    writeFileSync(file, 'x\n')
    expect(parse(['--data', file])).toThrow(new UsageError(`--data must be a folder, not a file (got "${file}")`))
    expect(parse(['--data', join(dir, 'nope')])).toThrow(UsageError)
    expect(parse(['--data-path', '/opt/spark/data'])).toThrow(/^--data-path must be an absolute path outside \/opt, \/etc, \/tmp/)
    expect(parse(['--data-path', 'data'])).toThrow(/^--data-path must be an absolute path/)
    expect(parse(['--data-claim', 'Lake_1'])).toThrow(/^--data-claim must be the name of a PersistentVolumeClaim/)
    expect(parse(['--data', dir, '--data-claim', 'lake'])).toThrow('--data and --data-claim cannot be given together: the cluster mounts one of them at --data-path')
  })
})
