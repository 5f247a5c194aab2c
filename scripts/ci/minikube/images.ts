// What `minikube start --preload=false` would download, made here and put where minikube looks
// first: kubeadm/kubelet/kubectl in its binary cache, and the cluster's images both in the host's
// Docker engine (minikube asks it for their IDs) and as `docker save` tarballs in its image cache
// (it imports those into the node's containerd). The names and tags are the ones kubeadm v1.33 and
// minikube v1.37 ask for; the contents are our own builds.
import { existsSync } from 'node:fs'
import { chmod, copyFile, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { $ } from 'zx'
import { cacheDir } from '../../lib/paths.ts'
import { BASE_IMAGE } from '../docker-ground.ts'
import { binDir, corednsVersion, ensurePauseBinary, kubernetesVersion } from '../kube/build.ts'
import { ensureProvisionerBinary } from '../kube/storage.ts'
import { etcdVersion, tools } from './tools.ts'

type Log = (line: string) => void

/** minikube's home for the ground (MINIKUBE_HOME): profiles and caches, apart from a user's ~/.minikube. */
export const minikubeHome = cacheDir('minikube', '.minikube')

interface ClusterImage {
  name: string
  binary: string
  /** Where the binary goes, and the entrypoint: /usr/local/bin (on PATH: kubeadm's pods name their command bare) unless given. */
  path?: string
  /** Debian packages the process calls (kube-proxy drives iptables and conntrack). */
  packages?: string[]
  /** A scratch image (static binary), else our Debian base (the Kubernetes binaries link glibc). */
  scratch?: boolean
  /** What the binary really is when the tag minikube asks for says otherwise. */
  builtFrom?: string
}

const k8s = (name: string) => `registry.k8s.io/${name}:v${kubernetesVersion}`

export function clusterImages(pause: string, provisioner: string): ClusterImage[] {
  return [
    ...['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((name) => ({ name: k8s(name), binary: join(binDir, name) })),
    { name: k8s('kube-proxy'), binary: join(binDir, 'kube-proxy'), packages: ['iptables', 'conntrack'] },
    // kubeadm v1.33's own tags (cmd/kubeadm/app/constants): etcd 3.5.24-0, CoreDNS v1.12.0, pause 3.10.
    { name: `registry.k8s.io/etcd:${etcdVersion}-0`, binary: tools.etcd, scratch: true },
    // The Kubernetes ground's CoreDNS build serves under the tag kubeadm asks for.
    { name: 'registry.k8s.io/coredns/coredns:v1.12.0', binary: join(binDir, 'coredns'), builtFrom: `coredns v${corednsVersion}` },
    { name: 'registry.k8s.io/pause:3.10', binary: pause, path: '/pause', scratch: true },
    // minikube's addon runs /storage-provisioner (deploy/addons/storage-provisioner).
    { name: 'gcr.io/k8s-minikube/storage-provisioner:v5', binary: provisioner, path: '/storage-provisioner', scratch: true },
  ]
}

/** The tarball path minikube reads for an image (localpath.ImagePath: ':' becomes '_'). */
export function cachedImagePath(name: string): string {
  return join(minikubeHome, 'cache', 'images', 'amd64', name.replace(/:/g, '_'))
}

export const binaryCacheDir = join(minikubeHome, 'cache', 'linux', 'amd64', `v${kubernetesVersion}`)

/** Copies kubeadm/kubelet/kubectl into minikube's binary cache (kept executable: minikube runs kubeadm from there). */
export async function ensureBinaryCache(log: Log): Promise<void> {
  await mkdir(binaryCacheDir, { recursive: true })
  for (const name of ['kubeadm', 'kubelet', 'kubectl']) {
    const target = join(binaryCacheDir, name)
    if (existsSync(target)) continue
    await copyFile(join(binDir, name), `${target}.tmp`)
    await chmod(`${target}.tmp`, 0o755)
    await rename(`${target}.tmp`, target)
  }
  log(`minikube cache: kubeadm, kubelet, kubectl v${kubernetesVersion} in ${binaryCacheDir}`)
}

async function inEngine(name: string): Promise<boolean> {
  return (await $({ quiet: true, nothrow: true })`docker image inspect ${name}`).ok
}

async function buildImage(image: ClusterImage): Promise<void> {
  const context = await mkdtemp(join(cacheDir('minikube'), 'image-'))
  try {
    await copyFile(image.binary, join(context, 'binary'))
    const path = image.path ?? `/usr/local/bin/${basename(image.binary)}`
    const lines = [
      image.scratch ? 'FROM scratch' : `FROM ${BASE_IMAGE}`,
      image.packages ? `RUN apt-get update && apt-get install -y --no-install-recommends ${image.packages.join(' ')} && rm -rf /var/lib/apt/lists/*` : '',
      // A scratch image has no /tmp, where the provisioner writes at start (the build keeps the mode).
      image.scratch ? 'COPY tmp /tmp' : '',
      `COPY binary ${path}`,
      'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin',
      image.builtFrom ? `LABEL org.opencontainers.image.description="${image.builtFrom}, built by the spark-standalone-k8s minikube ground"` : '',
      `ENTRYPOINT ["${path}"]`,
    ]
    if (image.scratch) {
      await mkdir(join(context, 'tmp'))
      await chmod(join(context, 'tmp'), 0o1777)
    }
    await writeFile(join(context, 'Dockerfile'), lines.filter(Boolean).join('\n') + '\n')
    await $({ quiet: true })`docker build -q -t ${image.name} ${context}`
  } finally {
    await rm(context, { recursive: true, force: true })
  }
}

/** Each cluster image in the engine and in minikube's cache; builds only what is missing. */
export async function ensureClusterImages(log: Log): Promise<string[]> {
  const images = clusterImages(await ensurePauseBinary(), await ensureProvisionerBinary(log))
  for (const image of images) {
    const tarball = cachedImagePath(image.name)
    const built = await inEngine(image.name)
    if (built && existsSync(tarball)) continue
    if (!built) {
      log(`image ${image.name}: building`)
      await buildImage(image)
    }
    await mkdir(dirname(tarball), { recursive: true })
    await $({ quiet: true })`docker save -o ${tarball}.tmp ${image.name}`
    await rename(`${tarball}.tmp`, tarball)
  }
  log(`minikube cache: ${images.length} cluster images in ${join(minikubeHome, 'cache', 'images')}`)
  return images.map((image) => image.name)
}
