import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { KubernetesObject, V1Deployment, V1Role, V1RoleBinding } from '@kubernetes/client-node'
import { Deployment } from 'kubernetes-models/apps/v1'
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1'
import { ServiceAccount } from 'kubernetes-models/v1'
import { describe, expect, it } from 'vitest'
import { loadManifests, parseManifestFile } from '../../scripts/lib/manifests.ts'
import { dockerDir, manifestsDir } from '../../scripts/lib/paths.ts'
import { manifestFile } from './manifest-file.ts'

const file = join(manifestsDir, 'elastic', 'spark-autoscaler.yml')
const { objects, only } = manifestFile(file)
const role = only<V1Role>('Role')
const binding = only<V1RoleBinding>('RoleBinding')
const deployment = only<V1Deployment>('Deployment')
const pod = deployment.spec!.template.spec!
const container = pod.containers[0]
const labels = { app: 'spark', role: 'autoscaler', 'app.kubernetes.io/managed-by': 'spark-standalone-k8s' }
const script = join(dockerDir, 'spark-autoscaler')

function filesIn(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? filesIn(join(dir, name)) : [join(dir, name)]))
}

describe('manifests/elastic/spark-autoscaler.yml', () => {
  it('is a ServiceAccount, Role, RoleBinding and Deployment Kubernetes accepts, all named spark-autoscaler and labelled as ours', () => {
    expect(objects.map((object) => object.kind)).toEqual(['ServiceAccount', 'Role', 'RoleBinding', 'Deployment'])
    new ServiceAccount(only('ServiceAccount') as never).validate()
    new Role(role as never).validate()
    new RoleBinding(binding as never).validate()
    new Deployment(deployment as never).validate()
    for (const object of objects) {
      expect(object.metadata?.name, object.kind).toBe('spark-autoscaler')
      expect(object.metadata?.labels, object.kind).toEqual(labels)
      expect(object.metadata?.namespace, object.kind).toBeUndefined()
    }
    expect(deployment.spec?.template.metadata?.labels).toEqual(labels)
    expect(deployment.spec?.selector.matchLabels).toEqual({ app: 'spark', role: 'autoscaler' })
    expect(deployment.spec).toMatchObject({ replicas: 1, strategy: { type: 'Recreate' } })
  })

  it('the Role grants only: get the spark-worker Deployment, patch its scale, list and patch pods, create events', () => {
    expect(role.rules).toEqual([
      { apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['spark-worker'], verbs: ['get'] },
      { apiGroups: ['apps'], resources: ['deployments/scale'], resourceNames: ['spark-worker'], verbs: ['patch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['list', 'patch'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create'] },
    ])
  })

  it('binds that Role, in its own namespace, to its ServiceAccount only, which the pod runs as', () => {
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'spark-autoscaler' })
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'spark-autoscaler' }])
    expect(pod.serviceAccountName).toBe('spark-autoscaler')
    expect(pod.automountServiceAccountToken).toBe(true)
  })

  it('nothing in manifests/ asks for rights cluster-wide: no ClusterRole or ClusterRoleBinding, and no other pod gets a token', () => {
    const all = filesIn(manifestsDir)
      .filter((path) => /\.ya?ml$/.test(path))
      .flatMap((path) => parseManifestFile(path).map((object) => ({ path, object })))
    expect(all.length).toBeGreaterThan(objects.length)
    expect(all.map(({ object }) => object.kind)).not.toContain('ClusterRole')
    expect(all.map(({ object }) => object.kind)).not.toContain('ClusterRoleBinding')
    const pods = all.filter(({ path, object }) => path !== file && ['Deployment', 'Job'].includes(object.kind!))
    expect(pods.length).toBeGreaterThan(3)
    for (const { path, object } of pods) {
      expect((object as V1Deployment).spec!.template.spec!.automountServiceAccountToken, path).toBe(false)
    }
  })

  it('runs the image\'s /usr/local/bin/spark-autoscaler, restricted: non-root 185, no capabilities, no privilege escalation, read-only root, RuntimeDefault seccomp, small bounded resources', () => {
    expect(container.name).toBe('spark-autoscaler')
    expect(container.image).toBe('spark:latest')
    expect(container.command).toBeUndefined()
    expect(container.args).toEqual(['/usr/local/bin/spark-autoscaler'])
    expect(pod.enableServiceLinks).toBe(false)
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 185, runAsGroup: 0, seccompProfile: { type: 'RuntimeDefault' } })
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } })
    expect(container.resources).toEqual({
      requests: { cpu: '20m', memory: '64Mi', 'ephemeral-storage': '64Mi' },
      limits: { cpu: '200m', memory: '128Mi', 'ephemeral-storage': '64Mi' },
    })
  })

  it('its settings: the range, the idle time, the master UI and its namespace from the downward API', () => {
    const env = Object.fromEntries(container.env!.map((variable) => [variable.name, variable.value ?? variable.valueFrom?.fieldRef?.fieldPath]))
    expect(env).toEqual({
      SPARK_WORKERS_MIN: '1',
      SPARK_WORKERS_MAX: '6',
      SPARK_WORKER_IDLE_SECONDS: '120',
      SPARK_MASTER_UI: 'http://spark-master-service:8080',
      POD_NAMESPACE: 'metadata.namespace',
    })
    // The master's Service and its UI port, as manifests/spark-master.yml names them.
    const manifests = loadManifests()
    const ui = manifests.service.spec!.ports!.find((port) => port.name === 'spark-master-webui')!
    expect(env.SPARK_MASTER_UI).toBe(`http://${manifests.service.metadata!.name}:${ui.port}`)
  })

  it('the program is in the image: an executable Python 3 script the Dockerfile copies to /usr/local/bin', () => {
    expect(readFileSync(script, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env python3')
    expect(statSync(script).mode & 0o111).toBe(0o111)
    expect(readFileSync(join(dockerDir, 'Dockerfile'), 'utf8')).toMatch(/^COPY await-master require-auth spark-autoscaler \/usr\/local\/bin\/$/m)
    // The build context sends only what .dockerignore lets through.
    expect(readFileSync(join(dockerDir, '.dockerignore'), 'utf8').split('\n')).toContain('!spark-autoscaler')
  })

  it('loadManifests reads it, so the tool renders it like every other file (image, namespace)', () => {
    const { serviceAccount, role: loadedRole, roleBinding, deployment: loadedDeployment } = loadManifests().autoscaler
    expect([serviceAccount, loadedRole, roleBinding, loadedDeployment]).toEqual(objects as KubernetesObject[])
  })
})
