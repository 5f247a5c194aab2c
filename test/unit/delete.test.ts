// cluster:down on Kubernetes: every kind the tool makes, found by our labels, against a fake API.
import type { KubernetesObject } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'
import { deleteCluster } from '../../scripts/delete.ts'
import { parseConfig } from '../../scripts/lib/config.ts'
import type { Kube } from '../../scripts/lib/kube/kube.ts'
import { loadManifests } from '../../scripts/lib/manifests.ts'
import { withStorage } from '../../scripts/lib/storage.ts'
import { makeTarget } from '../../scripts/lib/target.ts'
import { useFakeEngine } from './fake-engine.ts'

const manifests = loadManifests()

/** A fake API holding `objects` (by apiVersion/kind) that lists by selector, deletes and watches (never firing). */
function fakeKube(objects: KubernetesObject[], { monitoring = true, rbacForbidden = false }: { monitoring?: boolean; rbacForbidden?: boolean } = {}) {
  const store = new Map(objects.map((o) => [`${o.apiVersion}/${o.kind}/${o.metadata!.name}`, o]))
  const lists: string[] = []
  const kube = {
    config: {},
    k8s: { Watch: class { watch = async () => ({ abort: () => undefined }) } },
    objects: {
      list: async (apiVersion: string, kind: string, _namespace: string, ...rest: unknown[]) => {
        lists.push(`${apiVersion}/${kind} ${String(rest[4])}`)
        // client-node asks discovery first: a group the cluster does not serve is a 404.
        if (!monitoring && apiVersion.startsWith('monitoring.coreos.com/')) throw Object.assign(new Error('HTTP-Code: 404'), { code: 404 })
        // The built-in edit role may not list Roles or RoleBindings.
        if (rbacForbidden && apiVersion.startsWith('rbac.authorization.k8s.io/')) throw Object.assign(new Error('HTTP-Code: 403'), { code: 403 })
        // Equality terms (`key=value`) and set terms (`key in (a,b)`), as the API server reads them.
        const terms = String(rest[4]).match(/[^,(]+(\([^)]*\))?/g) ?? []
        const selected = (o: KubernetesObject) =>
          terms.every((term) => {
            const label = (key: string) => o.metadata?.labels?.[key]
            const set = /^(\S+) in \((.*)\)$/.exec(term)
            if (set) return set[2].split(',').includes(label(set[1]) ?? '')
            const [key, value] = term.split('=')
            return label(key) === value
          })
        return { items: [...store.values()].filter((o) => o.apiVersion === apiVersion && o.kind === kind && selected(o)) }
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

  it('deletes the PodMonitors with the rest where the cluster serves them, and minds none where it does not', async () => {
    const { kube, store } = fakeKube([manifests.master, ...manifests.podMonitors])
    const config = parseConfig('down', ['--platform', 'kubernetes', '--context', 'lab'], {})
    const outcome = await deleteCluster(makeTarget(config, 'kubernetes', manifests, async () => kube))
    expect(outcome).toEqual({ done: 'deleted deployment/spark-master, podmonitor/spark-master, podmonitor/spark-worker, podmonitor/spark-driver and their pods' })
    expect(store.size).toBe(0)
    const without = fakeKube([manifests.master], { monitoring: false })
    expect(await deleteCluster(makeTarget(config, 'kubernetes', manifests, async () => without.kube))).toEqual({ done: 'deleted deployment/spark-master and their pods' })
  })

  it("deletes the elastic workers' controller with its rights: ServiceAccount, Role and RoleBinding too", async () => {
    const { serviceAccount, role, roleBinding, deployment } = manifests.autoscaler
    const { kube, store } = fakeKube([manifests.master, serviceAccount, role, roleBinding, deployment])
    const config = parseConfig('down', ['--platform', 'kubernetes', '--context', 'lab'], {})
    const outcome = await deleteCluster(makeTarget(config, 'kubernetes', manifests, async () => kube))
    expect(outcome).toEqual({ done: 'deleted deployment/spark-master, deployment/spark-autoscaler, serviceaccount/spark-autoscaler, role/spark-autoscaler, rolebinding/spark-autoscaler and their pods' })
    expect(store.size).toBe(0)
    // A user bound to the built-in edit role may not list Roles (and could not have made one): the rest still goes.
    const edit = fakeKube([manifests.master, serviceAccount], { rbacForbidden: true })
    expect(await deleteCluster(makeTarget(config, 'kubernetes', manifests, async () => edit.kube))).toEqual({ done: 'deleted deployment/spark-master, serviceaccount/spark-autoscaler and their pods' })
  })

  it('--role worker takes the elastic workers\' controller and its rights with the workers, and leaves the master', async () => {
    const { serviceAccount, role, roleBinding, deployment } = manifests.autoscaler
    const { kube, store } = fakeKube([manifests.master, manifests.worker, serviceAccount, role, roleBinding, deployment])
    const config = parseConfig('down', ['--platform', 'kubernetes', '--context', 'lab', '--role', 'worker'], {})
    expect(await deleteCluster(makeTarget(config, 'kubernetes', manifests, async () => kube), config.role)).toEqual({
      done: 'deleted deployment/spark-worker, deployment/spark-autoscaler, serviceaccount/spark-autoscaler, role/spark-autoscaler, rolebinding/spark-autoscaler and their pods',
    })
    expect([...store.keys()]).toEqual(['apps/v1/Deployment/spark-master'])
  })

  it('says where the data the master mounted stays: the claim is not ours, so it is never listed or deleted', async () => {
    const master = structuredClone(manifests.master)
    withStorage(master.spec!.template, { data: { source: { persistentVolumeClaim: { claimName: 'lake' } }, mountPath: '/data', what: 'claim lake' } })
    const { kube } = fakeKube([master])
    const target = makeTarget(parseConfig('down', ['--platform', 'kubernetes', '--context', 'lab'], {}), 'kubernetes', manifests, async () => kube)
    expect(await deleteCluster(target)).toEqual({ done: 'deleted deployment/spark-master and their pods; your data stays: claim lake at /data' })
  })

  /** A cluster with JupyterLab on its own notebooks claim, and the events claim. */
  const withNotebook = () => [manifests.master, manifests.eventsClaim, manifests.notebook.deployment, manifests.notebook.service, manifests.notebook.claim]
  const down = (argv: string[], kube: Kube) => deleteCluster(makeTarget(parseConfig('down', ['--platform', 'kubernetes', '--context', 'lab', ...argv], {}), 'kubernetes', manifests, async () => kube), parseConfig('down', argv, {}).role)

  it('keeps the notebooks claim and names it; --delete-notebooks deletes it too', async () => {
    const kept = fakeKube(withNotebook())
    expect(await down([], kept.kube)).toEqual({
      done: 'deleted deployment/spark-master, deployment/spark-notebook, service/spark-notebook, persistentvolumeclaim/spark-events and their pods; your notebooks stay in claim spark-notebooks (npm run cluster:down -- --delete-notebooks deletes them)',
    })
    expect([...kept.store.keys()]).toEqual(['v1/PersistentVolumeClaim/spark-notebooks'])
    const deleted = fakeKube(withNotebook())
    expect(await down(['--delete-notebooks'], deleted.kube)).toEqual({
      done: 'deleted deployment/spark-master, deployment/spark-notebook, service/spark-notebook, persistentvolumeclaim/spark-events, persistentvolumeclaim/spark-notebooks and their pods',
    })
    expect(deleted.store.size).toBe(0)
  })

  it('--role notebook removes JupyterLab alone, keeping its notebooks', async () => {
    const { kube, store } = fakeKube(withNotebook())
    expect(await down(['--role', 'notebook'], kube)).toEqual({
      done: 'deleted deployment/spark-notebook, service/spark-notebook and their pods; your notebooks stay in claim spark-notebooks (npm run cluster:down -- --delete-notebooks deletes them)',
    })
    expect([...store.keys()].sort()).toEqual(['apps/v1/Deployment/spark-master', 'v1/PersistentVolumeClaim/spark-events', 'v1/PersistentVolumeClaim/spark-notebooks'])
  })
})

describe('deleteCluster on Docker', () => {
  const engine = useFakeEngine()
  const containers = [
    { Id: 'm1', Names: ['/spark-master'], Labels: { role: 'master' } },
    { Id: 'n1', Names: ['/spark-notebook'], Labels: { role: 'notebook' } },
  ]
  const volumes = ['spark-auth', 'spark-events', 'spark-notebooks']
  /** The engine holding those; what was deleted. */
  function dockerEngine() {
    const deleted: string[] = []
    engine.reset((request) => {
      const filters = JSON.parse(decodeURIComponent(/filters=([^&]*)/.exec(request.url)?.[1] ?? '%7B%7D')) as { label?: string[] }
      const role = filters.label?.find((label) => label.startsWith('role='))?.slice('role='.length)
      if (request.method === 'GET' && request.url.startsWith('/containers/json')) return { json: containers.filter((c) => !role || c.Labels.role === role) }
      if (request.method === 'GET' && request.url.startsWith('/networks')) return { json: [{ Id: 'net1', Name: 'spark' }] }
      if (request.method === 'GET' && request.url.startsWith('/volumes')) return { json: { Volumes: volumes.filter((name) => !role || name === 'spark-notebooks').map((Name) => ({ Name })) } }
      if (request.method === 'DELETE') {
        deleted.push(request.url.split('?')[0])
        return { status: 204 }
      }
      return undefined
    })
    return deleted
  }
  const down = (argv: string[]) => {
    const config = parseConfig('down', ['--platform', 'docker', ...argv], {})
    return deleteCluster(makeTarget(config, 'docker', manifests), config.role)
  }

  it('keeps the notebooks volume and names it; --delete-notebooks deletes it too', async () => {
    let deleted = dockerEngine()
    expect(await down([])).toEqual({ done: 'deleted spark-master, spark-notebook, network spark, volume spark-auth, volume spark-events; your notebooks stay in volume spark-notebooks (npm run cluster:down -- --delete-notebooks deletes them)' })
    expect(deleted).not.toContain('/volumes/spark-notebooks')
    deleted = dockerEngine()
    expect(await down(['--delete-notebooks'])).toEqual({ done: 'deleted spark-master, spark-notebook, network spark, volume spark-auth, volume spark-events, volume spark-notebooks' })
    expect(deleted).toContain('/volumes/spark-notebooks')
  })

  it('--role notebook removes the JupyterLab container alone, keeping its notebooks', async () => {
    const deleted = dockerEngine()
    expect(await down(['--role', 'notebook'])).toEqual({ done: 'deleted spark-notebook; your notebooks stay in volume spark-notebooks (npm run cluster:down -- --delete-notebooks deletes them)' })
    expect(deleted).toEqual(['/containers/n1'])
  })
})
