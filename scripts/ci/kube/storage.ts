// Dynamic PersistentVolumes for the test cluster: minikube's hostpath provisioner
// (k8s.io/minikube's ./cmd/storage-provisioner), built from the Go module proxy, imaged into the
// local registry and run in kube-system behind a default StorageClass, so a claim that names no
// class binds at once.
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { KubernetesObject, V1ClusterRoleBinding, V1Deployment, V1ServiceAccount, V1StorageClass } from '@kubernetes/client-node'
import { $ } from 'zx'
import { blockerWatch, fieldManager, isNotFound, newestPods, rolloutPending, type Kube } from '../../lib/kube/kube.ts'
import { cacheDir } from '../../lib/paths.ts'
import { pollUntil } from '../../lib/poll.ts'
import { minikubeVersion, withMinikubeSource } from '../minikube/build.ts'

type Log = (line: string) => void

/** The name minikube's provisioner answers to (pkg/storage: provisionerName). */
export const provisionerName = 'k8s.io/minikube-hostpath'
/** minikube's own name for its default class. */
export const storageClassName = 'standard'
/**
 * Where the provisioner makes one directory per claim (cmd/storage-provisioner: pvDir), 0777, at
 * <dir>/<namespace>/<claim>. Each PV is a hostPath to that directory, so this must be the same path
 * on the host as in the provisioner's container. `down` removes it.
 */
export const hostPvDir = '/tmp/hostpath-provisioner'
export const provisioner = { name: 'storage-provisioner', namespace: 'kube-system' }

const binary = cacheDir('kube', `storage-provisioner-minikube-v${minikubeVersion}`, 'storage-provisioner')
const imageRepo = 'spark-standalone-k8s/storage-provisioner'
// minikube's STORAGE_PROVISIONER_TAG for v1.37.0, plus the module it is built from (and patched: below).
const imageTag = `v5-minikube${minikubeVersion}`
const labels = { 'app.kubernetes.io/name': provisioner.name, 'app.kubernetes.io/managed-by': 'spark-standalone-k8s-ground' }

// sig-storage-lib-external-provisioner v6 elects a leader on an Endpoints lock, which the module's
// client-go (v0.33) refuses ("endpoints lock is removed"): the stock binary exits at start. One
// provisioner on one node needs no election, so it is switched off.
const electionCall = 'controller.NewProvisionController(clientset, provisionerName, hostPathProvisioner, serverVersion.GitVersion)'
const electionOff = 'controller.NewProvisionController(clientset, provisionerName, hostPathProvisioner, serverVersion.GitVersion, controller.LeaderElection(false))'

/** Builds the provisioner (static, CGO off) unless it is cached; returns the binary's path. */
export async function ensureProvisionerBinary(log: Log): Promise<string> {
  if (existsSync(binary)) {
    log(`storage-provisioner: cached at ${binary}`)
    return binary
  }
  await mkdir(dirname(binary), { recursive: true })
  await withMinikubeSource(log, async ({ dir, env }) => {
    const source = join(dir, 'pkg', 'storage', 'storage_provisioner.go')
    const code = await readFile(source, 'utf8')
    if (!code.includes(electionCall)) throw new Error(`${source} no longer makes its controller as expected: check the leader election patch in ${import.meta.url}`)
    await writeFile(source, code.replace(electionCall, electionOff))
    log(`storage-provisioner: building from minikube v${minikubeVersion} (cold: ~2-4 min on 2 cores)`)
    const started = Date.now()
    const staged = join(dir, 'out', 'storage-provisioner')
    await $({ cwd: dir, env: { ...env, CGO_ENABLED: '0' }, quiet: true })`go build -ldflags ${'-s -w'} -o ${staged} ./cmd/storage-provisioner`
    // Stage then rename, so an interrupted build never leaves a half-written "cached" binary.
    await rename(staged, binary)
    log(`storage-provisioner: built ${binary} in ${Math.round((Date.now() - started) / 1000)} s`)
  })
  return binary
}

/** True when the registry holds the tag, in any of the manifest types `docker push` writes. */
async function inRegistry(registry: string, repo: string, tag: string): Promise<boolean> {
  const accept = ['application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json'].join(', ')
  const response = await fetch(`http://${registry}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { Accept: accept }, signal: AbortSignal.timeout(5_000) }).catch(() => undefined)
  return response?.ok ?? false
}

/** A one-binary image of the provisioner in the local registry (as the pause image: no base image to pull). */
export async function ensureProvisionerImage(registry: string, log: Log): Promise<string> {
  const image = `${registry}/${imageRepo}:${imageTag}`
  if (await inRegistry(registry, imageRepo, imageTag)) {
    log(`storage-provisioner image: in the registry`)
    return image
  }
  const built = await ensureProvisionerBinary(log)
  const work = await mkdtemp(join(cacheDir('kube'), 'storage-provisioner-image-'))
  try {
    const root = join(work, 'root')
    // /tmp: the binary's main makes it at start, which a read-only root filesystem would refuse.
    await mkdir(join(root, 'tmp'), { recursive: true })
    await chmod(join(root, 'tmp'), 0o1777)
    await $({ quiet: true })`cp ${built} ${join(root, 'storage-provisioner')}`
    await $({ quiet: true })`tar -C ${root} -c storage-provisioner tmp | docker import --change ${'ENTRYPOINT ["/storage-provisioner"]'} - ${image}`
    await $({ quiet: true })`docker push ${image}`
  } finally {
    await rm(work, { recursive: true, force: true })
  }
  log(`storage-provisioner image: built and pushed as ${image}`)
  return image
}

/** What the provisioner runs with and the default StorageClass that names it. */
export function storageObjects(image: string): KubernetesObject[] {
  const { name, namespace } = provisioner
  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas: 1,
      // No leader election: two provisioners must never run side by side, not even during an update.
      strategy: { type: 'Recreate' },
      selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: name,
          containers: [
            {
              name,
              image,
              imagePullPolicy: 'IfNotPresent',
              // Root makes and removes the claim directories; removing what a Spark pod (uid 185) left in
              // its own subdirectories needs DAC_OVERRIDE. Nothing else: not privileged (the API server forbids it).
              securityContext: { runAsUser: 0, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'], add: ['DAC_OVERRIDE'] } },
              volumeMounts: [{ name: 'volumes', mountPath: hostPvDir }],
              // No requests: the ground's capacity is the Spark pods'.
            },
          ],
          volumes: [{ name: 'volumes', hostPath: { path: hostPvDir, type: 'DirectoryOrCreate' } }],
        },
      },
    },
  }
  const account: V1ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace, labels } }
  // The built-in role: PVs create/delete, PVC updates, StorageClass reads, events. No lock object (no election).
  const binding: V1ClusterRoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: `spark-standalone-k8s-ground:${name}`, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:persistent-volume-provisioner' },
    subjects: [{ kind: 'ServiceAccount', name, namespace }],
  }
  const storageClass: V1StorageClass = {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: storageClassName, labels, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: provisionerName,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'Immediate',
  }
  return [account, binding, deployment, storageClass]
}

/**
 * Applies the provisioner and the default StorageClass (server-side apply: a second `up` changes
 * nothing) and waits until the provisioner's controller has started.
 */
export async function ensureDefaultStorage(kube: Kube, image: string, log: Log): Promise<void> {
  const { ServerSideApply } = kube.k8s.PatchStrategy
  for (const object of storageObjects(image)) await kube.objects.patch(object, undefined, undefined, fieldManager, true, ServerSideApply)
  const { name, namespace } = provisioner
  const blocker = blockerWatch()
  await pollUntil(`the storage provisioner in ${namespace}`, 120_000, async () => {
    const deployment = await kube.apps.readNamespacedDeployment({ name, namespace })
    const pods = await newestPods(kube, deployment)
    for (const pod of pods) {
      const blocked = blocker(pod)
      if (blocked) throw new Error(`storage provisioner: ${blocked}`)
    }
    const pending = rolloutPending(deployment)
    if (pending) return { waiting: pending }
    const pod = pods.find((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    if (!pod) return { waiting: 'no Ready pod yet' }
    // No probe to ask: Ready only means the process runs; its log says when the controller is up.
    const started = await kube.core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace }).catch((error: unknown) => (isNotFound(error) ? '' : Promise.reject(error)))
    return started.includes('Started provisioner controller') ? { done: pod } : { waiting: `pod ${pod.metadata!.name} has not started its controller yet` }
  })
  log(`storage: default StorageClass ${storageClassName} (${provisionerName}, volumes in ${hostPvDir}); provisioner Ready`)
}
