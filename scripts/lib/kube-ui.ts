import { createServer, type Socket } from 'node:net'
import { Writable } from 'node:stream'
import { errorMessage, StepError } from './errors.ts'
import { isForbidden, isNotFound, kubeGet, type Kube } from './kube.ts'
import { selectorOf, uiPort } from './manifests.ts'
import type { Forwarding, MasterUi } from './master-ui.ts'
import { run } from './proc.ts'
import type { MasterState } from './spark-ui.ts'
import type { Target } from './target.ts'

/** `npm run ui` in words, for where no URL answers directly. */
const uiHint = 'run `npm run ui` to open it on http://localhost'

/**
 * Kubernetes (minikube included): /json/ through the API server's Service proxy and `npm run ui`
 * through a port-forward, so both work wherever kubectl works (a minikube docker driver on macOS,
 * a private cloud cluster). The NodePort is offered only after one quick probe shows it answers.
 */
export function kubeUi(target: Target): MasterUi {
  const namespace = target.config.namespace
  const service = target.manifests.service.metadata!.name!
  const port = uiPort(target.manifests)
  const proxyPath = `/api/v1/namespaces/${namespace}/services/${service}:${port.name}/proxy/json/`
  return {
    via: `through the Kubernetes API server (service ${service}:${port.name} in namespace ${namespace})`,
    readState: async () => JSON.parse(await kubeGet(await target.kube(), proxyPath)) as MasterState,
    link: async () => {
      const url = await nodePortUrl(target, await target.kube())
      return url && (await answers(url)) ? { url } : { hint: uiHint }
    },
    forward: async (localPort) => forwardToMaster(target, await target.kube(), localPort, port.containerPort),
  }
}

/** http://<node address>:<the Service's live UI NodePort>, or undefined when there is no such port or address we may read. */
async function nodePortUrl(target: Target, kube: Kube): Promise<string | undefined> {
  const name = target.manifests.service.metadata!.name!
  const live = await kube.core.readNamespacedService({ name, namespace: target.config.namespace }).catch((error: unknown) => {
    if (isNotFound(error)) return undefined
    throw error
  })
  const nodePort = live?.spec?.ports?.find((p) => p.name === uiPort(target.manifests).name)?.nodePort
  if (!nodePort) return undefined
  const address = await nodeAddress(target, kube)
  return address ? `http://${address}:${nodePort}` : undefined
}

/** `minikube ip`, or a node's ExternalIP/InternalIP; undefined when nodes may not be read (a namespace-bound user). */
async function nodeAddress(target: Target, kube: Kube): Promise<string | undefined> {
  if (target.platform === 'minikube') {
    const ip = await run({ nothrow: true })`minikube -p ${target.config.profile} ip`
    return ip.exitCode === 0 ? ip.stdout.trim() : undefined
  }
  const nodes = await kube.core.listNode().catch((error: unknown) => {
    if (isForbidden(error)) return undefined
    throw error
  })
  const addresses = (nodes?.items ?? []).flatMap((node) => node.status?.addresses ?? [])
  return (addresses.find((a) => a.type === 'ExternalIP') ?? addresses.find((a) => a.type === 'InternalIP'))?.address
}

/** One quick probe: the node IP of a minikube docker driver on macOS, or of a private cluster, does not answer. */
async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(new URL('/json/', url), { signal: AbortSignal.timeout(1_500) })).ok
  } catch {
    return false
  }
}

/** The Running, not-terminating master pod: the target of each forwarded connection (looked up anew, so a replaced master is followed). */
async function masterPod(target: Target, kube: Kube): Promise<string> {
  const { items } = await kube.core.listNamespacedPod({ namespace: target.config.namespace, labelSelector: selectorOf(target.manifests.master.spec!.selector!.matchLabels!) })
  const pod = items.find((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp)
  if (!pod) throw new Error(`no running master pod in namespace ${target.config.namespace}: run \`npm run cluster:up\` first`)
  return pod.metadata!.name!
}

/** Port-forwarding needs its own right (pods/portforward); asked first, so no URL is printed that every connection would fail on. */
async function requirePortForwardRight(kube: Kube, namespace: string): Promise<void> {
  const review = await kube.authorization.createSelfSubjectAccessReview({
    body: { spec: { resourceAttributes: { namespace, verb: 'create', resource: 'pods', subresource: 'portforward' } } },
  })
  if (!review.status?.allowed) {
    throw new StepError(`you may not port-forward in namespace ${namespace} (create pods/portforward): ask for the built-in admin or edit role there`)
  }
}

/** A loopback listener whose every connection is a port-forward (client-node, over the API server) to the master pod's UI port. */
async function forwardToMaster(target: Target, kube: Kube, localPort: number, containerPort: number): Promise<Forwarding> {
  const namespace = target.config.namespace
  await requirePortForwardRight(kube, namespace)
  const first = await masterPod(target, kube)
  const forwarder = new kube.k8s.PortForward(kube.config)
  const sockets = new Set<Socket>()
  // What the kubelet says on the error channel (the master restarting, say), as one line each.
  const kubeletErrors = new Writable({ write: (chunk: Buffer, _encoding, done) => (console.error(`ui: ${chunk.toString().trim()}`), done()) })
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    masterPod(target, kube)
      .then((pod) => forwarder.portForward(namespace, pod, [containerPort], socket, kubeletErrors, socket))
      .then((ws) => {
        if (typeof ws === 'function') return
        ws.on('close', () => socket.end())
        // The browser may have given up while the forward was being set up.
        if (socket.destroyed) ws.close()
        else socket.on('close', () => ws.close())
      })
      .catch((error: unknown) => {
        console.error(`ui: a connection could not be forwarded: ${errorMessage(error)}`)
        socket.destroy()
      })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(localPort, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  server.on('error', (error) => console.error(`ui: ${errorMessage(error)}`))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : localPort
  return {
    url: `http://localhost:${port}`,
    how: `port-forward to pod ${first} port ${containerPort} through the API server`,
    keepsRunning: true,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
