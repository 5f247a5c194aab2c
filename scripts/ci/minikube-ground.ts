/**
 * A real minikube for the end-to-end tests, with nothing fetched from outside: the minikube binary
 * (k8s.io/minikube from the Go module proxy), a node image of our own for `--driver=docker` (our
 * debootstrapped Debian with systemd, containerd, runc and the CNI plugins from Debian, crictl from
 * its Go module), kubeadm/kubelet/kubectl and the cluster's images (Kubernetes, etcd 3.5, CoreDNS,
 * pause, storage-provisioner: our own builds) in minikube's caches. Idempotent; it starts no
 * profile: the tool's `cluster:up` does, with the settings `up` prints (MINIKUBE_* variables, which
 * minikube reads as its flags). `down` deletes the ground's profiles; the caches stay. Needs root.
 *
 *   npx tsx scripts/ci/minikube-ground.ts up     # prints the environment to run the tool with
 *   npx tsx scripts/ci/minikube-ground.ts down
 */
import { existsSync } from 'node:fs'
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { $ } from 'zx'
import { cacheDir } from '../lib/paths.ts'
import { runIfMain } from '../lib/main.ts'
import { BASE_IMAGE, ensureDockerGround, requirePrivilegedContainers } from './docker-ground.ts'
import { isRoot, type Log } from './host.ts'
import { ensureBinaries, kubernetesVersion } from './kube/build.ts'
import { ensureMinikubeBinary, minikubeBinary, minikubeVersion } from './minikube/build.ts'
import { parseProfileList } from '../lib/kube/minikube.ts'
import { ensureBinaryCache, ensureClusterImages, minikubeHome } from './minikube/images.ts'
import { ensureTools, tools } from './minikube/tools.ts'

/** The profile the tool uses on the ground. */
export const groundProfile = 'ssk8s-ground'

export const nodeImage = `spark-standalone-k8s/minikube-node:v${minikubeVersion}-bookworm`

const defaultLog: Log = (line) => process.stderr.write(`[minikube-ground] ${line}\n`)

/** The node image (Docker's layer cache makes a second build instant). */
async function ensureNodeImage(log: Log): Promise<void> {
  const context = await mkdtemp(join(cacheDir('minikube'), 'node-image-'))
  try {
    await cp(new URL('./minikube/node/', import.meta.url).pathname, context, { recursive: true })
    await cp(tools.crictl, join(context, 'crictl'))
    await cp(new URL('./runtime/runc-bounded', import.meta.url).pathname, join(context, 'runc-bounded'))
    await $({ quiet: true })`docker build -q --build-arg BASE=${BASE_IMAGE} -t ${nodeImage} ${context}`
  } finally {
    await rm(context, { recursive: true, force: true })
  }
  log(`node image: ${nodeImage}`)
}

/**
 * What the tool needs to use the ground: minikube on PATH, its home and a kubeconfig of its own,
 * the start flags as MINIKUBE_* variables (minikube binds every flag to one; --force because CI runs
 * as root, which minikube's docker driver otherwise refuses), and the profile to use.
 */
export function minikubeEnv(binary: string): Record<string, string> {
  return {
    PATH: `${dirname(binary)}:${process.env.PATH ?? ''}`,
    MINIKUBE_HOME: minikubeHome,
    // minikube writes its context here rather than into ~/.kube/config.
    KUBECONFIG: cacheDir('minikube', 'kubeconfig'),
    MINIKUBE_BASE_IMAGE: nodeImage,
    MINIKUBE_PRELOAD: 'false',
    MINIKUBE_CONTAINER_RUNTIME: 'containerd',
    MINIKUBE_CNI: 'bridge',
    MINIKUBE_KUBERNETES_VERSION: `v${kubernetesVersion}`,
    MINIKUBE_WANTUPDATENOTIFICATION: 'false',
    MINIKUBE_FORCE: 'true',
    // Not `minikube`: its node container, network and volume are named after the profile, and a
    // user's own default profile on the same engine must not meet ours.
    SPARK_K8S_MINIKUBE_PROFILE: groundProfile,
  }
}

export async function minikubeGroundUp(log: Log = defaultLog): Promise<Record<string, string>> {
  if (!isRoot()) throw new Error('the minikube ground builds images and installs Debian packages: run it as root')
  await ensureDockerGround({ log })
  // The node is a privileged container.
  await requirePrivilegedContainers()
  const binary = await ensureMinikubeBinary(log)
  await ensureBinaries(log)
  await ensureTools(log)
  await ensureNodeImage(log)
  await ensureBinaryCache(log)
  await ensureClusterImages(log)
  return minikubeEnv(binary)
}

/**
 * Deletes the profiles under the ground's MINIKUBE_HOME, one by name (`delete --all` would also take
 * every other minikube container on the engine, a user's own included). Nothing to do when minikube
 * was never built.
 */
export async function minikubeGroundDown(log: Log = defaultLog): Promise<void> {
  if (!existsSync(minikubeBinary)) return
  const minikube = $({ quiet: true, nothrow: true, timeout: '5m', env: { ...process.env, ...minikubeEnv(minikubeBinary) } })
  const profiles = parseProfileList((await minikube`minikube profile list -o json`).stdout)
  const names = [...(profiles?.valid ?? []), ...(profiles?.invalid ?? [])].map((profile) => profile.name)
  for (const name of names) {
    const deleted = await minikube`minikube delete -p ${name}`
    if (deleted.exitCode !== 0) log(`minikube delete -p ${name} failed: ${deleted.stderr.trim().split('\n').pop()}`)
  }
  log(`minikube ground: ${names.length ? `deleted ${names.join(', ')}` : 'no profile'} (caches kept)`)
}

runIfMain(import.meta.url, async () => {
  const command = process.argv[2] ?? 'up'
  if (command === 'down') return minikubeGroundDown()
  if (command !== 'up') throw new Error(`usage: minikube-ground.ts up|down (got ${command})`)
  const env = await minikubeGroundUp()
  for (const [name, value] of Object.entries(env)) process.stdout.write(`export ${name}=${JSON.stringify(value)}\n`)
})
