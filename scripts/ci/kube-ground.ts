/**
 * A real single-node Kubernetes for the end-to-end tests, built and started on this machine:
 * etcd, containerd + runc, CNI bridge, a local registry (all from Debian), Kubernetes and CoreDNS
 * built from the Go module proxy, a locally built pause image. Idempotent; `down` stops it all and
 * removes its state (the built binaries stay cached). Needs root.
 *
 *   npx tsx scripts/ci/kube-ground.ts up     # prints KUBECONFIG=…, the context and the registry
 *   npx tsx scripts/ci/kube-ground.ts down
 *
 * Addresses: the node is the gateway of the pods' own bridge (10.244.0.1), so the API server,
 * CoreDNS and the NodePorts listen only on the test network this script makes.
 */
import { existsSync } from 'node:fs'
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { stringify } from 'yaml'
import { connectKube } from '../lib/kube/kube.ts'
import { cacheDir } from '../lib/paths.ts'
import { runIfMain } from '../lib/main.ts'
import { ensureDockerGround } from './docker-ground.ts'
import { sleep } from '../lib/poll.ts'
import { ensurePackages, isRoot, sh, startDaemon, stopDaemon, unmountUnder, type Log } from './host.ts'
import { binDir, ensureBinaries, ensurePauseBinary } from './kube/build.ts'
import { ensurePki, writeKubeconfig } from './kube/pki.ts'
import { ensureDefaultStorage, ensureProvisionerImage, hostPvDir, provisioner } from './kube/storage.ts'

export const groundContext = 'spark-standalone-k8s-ground'
const nodeIp = '10.244.0.1'
const podSubnet = '10.244.0.0/24'
const serviceRange = '10.96.0.0/24'
const serviceIp = '10.96.0.1'
const bridge = 'ssk8s0'
const nodeName = 'ssk8s-node'
export const registry = '127.0.0.1:5000'
const pauseImage = `${registry}/spark-standalone-k8s/pause:1`

const stateDir = cacheDir('kube', 'state')
const runDir = '/run/spark-standalone-k8s'
/** The node's containerd: the e2e suite asks it what the node holds. */
export const containerdSocket = `${runDir}/containerd.sock`
const at = {
  kubeconfig: cacheDir('kube', 'admin.kubeconfig'),
  pki: cacheDir('kube', 'pki'),
  logs: join(stateDir, 'logs'),
  pids: join(stateDir, 'pids'),
  etc: join(stateDir, 'etc'),
}
const log$ = (name: string) => join(at.logs, `${name}.log`)
const pid$ = (name: string) => join(at.pids, `${name}.pid`)

export interface KubeGround {
  kubeconfig: string
  context: string
  registry: string
  nodeIp: string
}

const defaultLog: Log = (line) => process.stderr.write(`[kube-ground] ${line}\n`)

/** True when the URL answers 2xx; `admin` presents the admin client cert, `insecure` skips TLS checks (self-signed health ports). */
async function answers(url: string, auth?: 'admin' | 'insecure'): Promise<boolean> {
  const args =
    auth === 'admin' ? ['--cacert', join(at.pki, 'ca.crt'), '--cert', join(at.pki, 'admin.crt'), '--key', join(at.pki, 'admin.key')] : auth === 'insecure' ? ['--insecure'] : []
  return (await sh({ nothrow: true, timeout: 5_000 })`curl -fsS -o /dev/null ${args} ${url}`).ok
}

/** Where the ground is reached once up (fixed: known before `up` has run). */
export const kubeGround: KubeGround = { kubeconfig: at.kubeconfig, context: groundContext, registry, nodeIp }

export async function kubeGroundUp(log: Log = defaultLog): Promise<KubeGround> {
  if (!isRoot()) throw new Error('the Kubernetes test ground runs a kubelet and containerd: run it as root')
  await ensurePackages(log, {
    'etcd-server': 'etcd',
    containerd: 'containerd',
    runc: 'runc',
    'containernetworking-plugins': '/usr/lib/cni/bridge',
    'docker-registry': 'docker-registry',
    iptables: 'iptables',
    conntrack: 'conntrack',
    openssl: 'openssl',
    curl: 'curl',
    gcc: 'gcc',
  })
  await ensureDockerGround({ log })
  const bin = await ensureBinaries(log)
  await Promise.all([at.logs, at.pids, at.etc].map((dir) => mkdir(dir, { recursive: true })))
  await mkdir(runDir, { recursive: true })

  await ensureBridge(log)
  const pki = await ensurePki(at.pki, { nodeIp, serviceIp })
  await writeKubeconfig(at.kubeconfig, pki, `https://${nodeIp}:6443`, groundContext)
  const kubeconfig = ['--kubeconfig', at.kubeconfig]

  await writeFile(join(at.etc, 'registry.yml'), stringify({ version: 0.1, storage: { filesystem: { rootdirectory: join(stateDir, 'registry') } }, http: { addr: registry } }))
  await startDaemon({ name: 'registry', command: 'docker-registry', args: ['serve', join(at.etc, 'registry.yml')], logFile: log$('registry'), pidFile: pid$('registry'), ready: () => answers(`http://${registry}/v2/`) }, log)
  await ensurePauseImage(log)
  const provisionerImage = await ensureProvisionerImage(registry, log)

  await startDaemon(
    {
      name: 'etcd',
      command: 'etcd',
      args: ['--name', nodeName, '--data-dir', join(stateDir, 'etcd'), '--listen-client-urls', 'http://127.0.0.1:2379', '--advertise-client-urls', 'http://127.0.0.1:2379', '--listen-peer-urls', 'http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380', '--initial-cluster', `${nodeName}=http://127.0.0.1:2380`],
      logFile: log$('etcd'),
      pidFile: pid$('etcd'),
      ready: () => answers('http://127.0.0.1:2379/health'),
    },
    log,
  )

  await writeContainerdConfig()
  await startDaemon(
    {
      name: 'containerd',
      command: 'containerd',
      args: ['--config', join(at.etc, 'containerd.toml')],
      logFile: log$('containerd'),
      pidFile: pid$('containerd'),
      ready: async () => existsSync(containerdSocket) && (await sh({ nothrow: true })`ctr --address ${containerdSocket} version`).ok,
    },
    log,
  )

  await startDaemon(
    {
      name: 'kube-apiserver',
      command: join(bin, 'kube-apiserver'),
      args: [
        `--advertise-address=${nodeIp}`,
        `--bind-address=${nodeIp}`,
        '--secure-port=6443',
        '--etcd-servers=http://127.0.0.1:2379',
        `--service-cluster-ip-range=${serviceRange}`,
        `--client-ca-file=${pki.ca}`,
        `--tls-cert-file=${pki.apiserverCert}`,
        `--tls-private-key-file=${pki.apiserverKey}`,
        `--kubelet-client-certificate=${pki.adminCert}`,
        `--kubelet-client-key=${pki.adminKey}`,
        // The node's name is not in any DNS; reach the kubelet (logs, exec) by its address.
        '--kubelet-preferred-address-types=InternalIP',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${pki.serviceAccountPub}`,
        `--service-account-signing-key-file=${pki.serviceAccountKey}`,
        '--authorization-mode=Node,RBAC',
        '--allow-privileged=false',
      ],
      logFile: log$('kube-apiserver'),
      pidFile: pid$('kube-apiserver'),
      ready: () => answers(`https://${nodeIp}:6443/readyz`, 'admin'),
      timeoutMs: 120_000,
    },
    log,
  )
  const common = [...kubeconfig, '--bind-address=127.0.0.1']
  await startDaemon(
    {
      name: 'kube-controller-manager',
      command: join(bin, 'kube-controller-manager'),
      args: [...common, '--leader-elect=false', `--service-account-private-key-file=${pki.serviceAccountKey}`, `--root-ca-file=${pki.ca}`, `--cluster-cidr=${podSubnet}`],
      logFile: log$('kube-controller-manager'),
      pidFile: pid$('kube-controller-manager'),
      ready: () => answers('https://127.0.0.1:10257/healthz', 'insecure'),
    },
    log,
  )
  await startDaemon(
    {
      name: 'kube-scheduler',
      command: join(bin, 'kube-scheduler'),
      args: [...common, '--leader-elect=false'],
      logFile: log$('kube-scheduler'),
      pidFile: pid$('kube-scheduler'),
      ready: () => answers('https://127.0.0.1:10259/healthz', 'insecure'),
    },
    log,
  )

  await writeFile(
    join(at.etc, 'Corefile'),
    `.:53 {\n  bind ${nodeIp}\n  errors\n  health 127.0.0.1:18053\n  kubernetes cluster.local in-addr.arpa ip6.arpa {\n    kubeconfig ${at.kubeconfig} ${groundContext}\n    pods insecure\n    fallthrough in-addr.arpa ip6.arpa\n  }\n  forward . /etc/resolv.conf\n  cache 30\n}\n`,
  )
  await startDaemon({ name: 'coredns', command: join(bin, 'coredns'), args: ['-conf', join(at.etc, 'Corefile')], logFile: log$('coredns'), pidFile: pid$('coredns'), ready: () => answers('http://127.0.0.1:18053/health') }, log)

  await startDaemon(
    {
      name: 'kube-proxy',
      command: join(bin, 'kube-proxy'),
      args: [
        ...kubeconfig,
        '--proxy-mode=iptables',
        `--cluster-cidr=${podSubnet}`,
        `--hostname-override=${nodeName}`,
        // NodePorts on the node address only: 127.0.0.1:30001 stays free for the Docker runtime.
        `--nodeport-addresses=${nodeIp}/32`,
        '--conntrack-max-per-core=0',
        '--metrics-bind-address=127.0.0.1:10249',
        '--healthz-bind-address=127.0.0.1:10256',
      ],
      logFile: log$('kube-proxy'),
      pidFile: pid$('kube-proxy'),
      ready: () => answers('http://127.0.0.1:10256/livez'),
    },
    log,
  )

  await writeKubeletConfig(pki.ca)
  await startDaemon(
    {
      name: 'kubelet',
      command: join(bin, 'kubelet'),
      args: [...kubeconfig, '--config', join(at.etc, 'kubelet.yml'), `--hostname-override=${nodeName}`, `--node-ip=${nodeIp}`, '--root-dir', join(stateDir, 'kubelet')],
      logFile: log$('kubelet'),
      pidFile: pid$('kubelet'),
      ready: () => answers('http://127.0.0.1:10248/healthz'),
      timeoutMs: 120_000,
    },
    log,
  )
  await waitNodeReady(log)
  // A claim that names no class binds at once: the Spark master keeps its recovery state on one.
  await ensureDefaultStorage(await connectKube(groundContext, at.kubeconfig), provisionerImage, log)
  return kubeGround
}

/** The pods' bridge, made up front so the node address exists before anything binds to it. */
async function ensureBridge(log: Log): Promise<void> {
  if (!(await sh({ nothrow: true })`ip link show ${bridge}`).ok) {
    await sh`ip link add ${bridge} type bridge`
    log(`network: bridge ${bridge} created`)
  }
  const addresses = (await sh`ip -4 -o addr show dev ${bridge}`).stdout
  if (!addresses.includes(`${nodeIp}/`)) await sh`ip addr add ${nodeIp}/24 dev ${bridge}`
  await sh`ip link set ${bridge} up`
  // Service traffic between pods on one bridge must pass iptables (kube-proxy's rules).
  await sh({ nothrow: true })`modprobe br_netfilter`
  await sh`sysctl -q -w net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1`
  // Docker sets the FORWARD policy to DROP; pod → service → pod on this bridge is forwarded traffic.
  for (const rule of forwardRules) {
    if (!(await sh({ nothrow: true })`iptables -C FORWARD ${rule}`).ok) await sh`iptables -I FORWARD ${rule}`
  }
}

const forwardRules = ['-i', '-o'].map((direction) => [direction, bridge, '-m', 'comment', '--comment', 'spark-standalone-k8s ground', '-j', 'ACCEPT'])

async function ensurePauseImage(log: Log): Promise<void> {
  if (await answers(`http://${registry}/v2/spark-standalone-k8s/pause/manifests/1`)) return log('pause image: in the registry')
  const pause = await ensurePauseBinary()
  await sh`tar -C ${dirname(pause)} -c pause | docker import --change ${'ENTRYPOINT ["/pause"]'} - ${pauseImage}`
  await sh`docker push ${pauseImage}`
  log(`pause image: built and pushed as ${pauseImage}`)
}

async function writeContainerdConfig(): Promise<void> {
  const cri = 'plugins."io.containerd.grpc.v1.cri"'
  const toml = [
    'version = 2',
    `root = "${join(stateDir, 'containerd')}"`,
    `state = "${runDir}/containerd"`,
    '[grpc]',
    `  address = "${containerdSocket}"`,
    `[${cri}]`,
    `  sandbox_image = "${pauseImage}"`,
    // This machine does not let even root lower oom_score_adj; pods get containerd's own instead.
    '  restrict_oom_score_adj = true',
    `[${cri}.containerd]`,
    '  snapshotter = "overlayfs"',
    '  default_runtime_name = "runc"',
    `[${cri}.containerd.runtimes.runc]`,
    '  runtime_type = "io.containerd.runc.v2"',
    `[${cri}.cni]`,
    '  bin_dir = "/usr/lib/cni"',
    `  conf_dir = "${join(at.etc, 'cni')}"`,
    `[${cri}.registry.mirrors."${registry}"]`,
    `  endpoint = ["http://${registry}"]`,
    '',
  ].join('\n')
  await writeFile(join(at.etc, 'containerd.toml'), toml)
  await mkdir(join(at.etc, 'cni'), { recursive: true })
  const network = {
    cniVersion: '0.4.0',
    name: 'spark-standalone-k8s',
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: podSubnet, gateway: nodeIp }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: join(stateDir, 'cni-ipam') },
      },
      { type: 'loopback' },
    ],
  }
  await writeFile(join(at.etc, 'cni', '10-spark-standalone-k8s.conflist'), JSON.stringify(network, null, 2))
}

async function writeKubeletConfig(clientCa: string): Promise<void> {
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    containerRuntimeEndpoint: `unix://${containerdSocket}`,
    cgroupDriver: 'cgroupfs',
    failSwapOn: false,
    address: nodeIp,
    healthzBindAddress: '127.0.0.1',
    authentication: { anonymous: { enabled: false }, webhook: { enabled: false }, x509: { clientCAFile: clientCa } },
    authorization: { mode: 'AlwaysAllow' },
    clusterDNS: [nodeIp],
    clusterDomain: 'cluster.local',
    resolvConf: '/etc/resolv.conf',
    // A test node on a shared disk: don't evict the Spark pods for a fuller disk.
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    serializeImagePulls: false,
  }
  await writeFile(join(at.etc, 'kubelet.yml'), stringify(config))
}


async function waitNodeReady(log: Log): Promise<void> {
  const { core } = await connectKube(groundContext, at.kubeconfig)
  const deadline = Date.now() + 180_000
  let reason = 'no node yet'
  while (Date.now() < deadline) {
    const node = await core.readNode({ name: nodeName }).catch(() => undefined)
    const ready = node?.status?.conditions?.find((c) => c.type === 'Ready')
    const account = await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' }).catch(() => undefined)
    if (ready?.status === 'True' && account) return log(`node ${nodeName}: Ready`)
    reason = ready ? `node ${ready.reason}: ${ready.message}` : 'node not registered'
    if (!account) reason += '; default service account not there yet'
    await sleep(1_000)
  }
  throw new Error(`node ${nodeName} not Ready within 180 s: ${reason}; see ${log$('kubelet')}`)
}

/** Stops everything `up` started, pods first, and removes the cluster's state; the binaries stay cached. */
export async function kubeGroundDown(log: Log = defaultLog): Promise<void> {
  if (existsSync(at.kubeconfig) && (await answers(`https://${nodeIp}:6443/readyz`, 'admin'))) {
    const { core, apps } = await connectKube(groundContext, at.kubeconfig)
    // Its ReplicaSet would recreate the provisioner's pod as fast as the loop below deletes it.
    await apps.deleteNamespacedDeployment({ ...provisioner, propagationPolicy: 'Foreground' }).catch(() => undefined)
    const { items } = await core.listPodForAllNamespaces()
    for (const pod of items) await core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, gracePeriodSeconds: 0 }).catch(() => undefined)
    const deadline = Date.now() + 60_000
    while (Date.now() < deadline && (await core.listPodForAllNamespaces()).items.length > 0) await sleep(1_000)
  }
  for (const name of ['kubelet', 'kube-proxy', 'coredns', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'containerd', 'etcd', 'registry']) {
    await stopDaemon(pid$(name), log)
  }
  // Sandboxes outlive containerd in their shims; stop them, then what they had mounted.
  await sh({ nothrow: true })`pkill -KILL -f ${`containerd-shim.*-address ${containerdSocket}`}`
  await unmountUnder(runDir)
  await unmountUnder(stateDir)
  // The provisioner's claim directories (the PVs' hostPaths), outside the state dir.
  await unmountUnder(hostPvDir)
  await rm(hostPvDir, { recursive: true, force: true })
  for (const name of (await readdir('/var/run/netns').catch(() => [] as string[])).filter((n) => n.startsWith('cni-'))) {
    await sh({ nothrow: true })`ip netns delete ${name}`
  }
  // kube-proxy's iptables chains stay after it stops; its own cleanup mode removes them.
  const kubeProxy = join(binDir, 'kube-proxy')
  if (existsSync(kubeProxy)) await sh({ nothrow: true })`${kubeProxy} --cleanup`
  for (const rule of forwardRules) await sh({ nothrow: true })`iptables -D FORWARD ${rule}`
  await sh({ nothrow: true })`ip link delete ${bridge}`
  await rm(stateDir, { recursive: true, force: true })
  await rm(runDir, { recursive: true, force: true })
  log('down: stopped and removed (binaries stay cached)')
}

runIfMain(import.meta.url, async () => {
  const action = process.argv[2]
  if (action === 'down') return kubeGroundDown()
  if (action !== 'up') throw Object.assign(new Error('usage: kube-ground.ts up|down'), { exitCode: 2 })
  const ground = await kubeGroundUp()
  process.stdout.write(`KUBECONFIG=${ground.kubeconfig}\nSPARK_K8S_CONTEXT=${ground.context}\nSPARK_K8S_REGISTRY=${ground.registry}\n`)
})
