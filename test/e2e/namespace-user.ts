// A user as shared clusters have them: a ServiceAccount bound to the built-in `admin` ClusterRole in
// one namespace only (a RoleBinding), with a token kubeconfig of its own. Made with the ground's
// admin credentials, as a cluster operator would.
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { restrictedNamespaceLabels } from '../../scripts/lib/kube/apply.ts'
import type { Kube } from '../../scripts/lib/kube/kube.ts'

export interface NamespaceUser {
  kubeconfig: string
  context: string
  user: string
}

export async function makeNamespaceUser(admin: Kube, namespace: string, name = 'spark-dev'): Promise<NamespaceUser> {
  const ignoreExisting = (error: unknown) => {
    if ((error as { code?: number }).code !== 409) throw error
  }
  // As the tool labels the namespaces it creates: PodSecurity "restricted" enforced.
  await admin.core.createNamespace({ body: { metadata: { name: namespace, labels: restrictedNamespaceLabels } } }).catch(ignoreExisting)
  await admin.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }).catch(ignoreExisting)
  await admin.objects
    .create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `${name}-admin`, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    } as never)
    .catch(ignoreExisting)
  const token = await admin.core.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences: [], expirationSeconds: 7200 } } })
  const cluster = admin.config.getCurrentCluster()!
  const context = `${name}@${namespace}`
  const dir = await mkdtemp(join(tmpdir(), 'ssk8s-user-'))
  const kubeconfig = join(dir, 'kubeconfig')
  await writeFile(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'ground', cluster: { server: cluster.server, ...(cluster.caFile ? { 'certificate-authority': cluster.caFile } : { 'certificate-authority-data': cluster.caData }) } }],
      users: [{ name, user: { token: token.status!.token } }],
      contexts: [{ name: context, context: { cluster: 'ground', user: name, namespace } }],
      'current-context': context,
    }),
    { mode: 0o600 },
  )
  return { kubeconfig, context, user: `system:serviceaccount:${namespace}:${name}` }
}
