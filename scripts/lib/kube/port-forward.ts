import type { Socket } from 'node:net'
import { Writable } from 'node:stream'
import { errorMessage, StepError } from '../errors.ts'
import type { Kube } from './kube.ts'
import { listenOnLoopback } from '../loopback.ts'
import type { Forwarding } from '../master-ui.ts'

export interface ForwardRequest {
  namespace: string
  /** The pods to reach (a Deployment's selector): each connection goes to one that is running now. */
  selector: string
  containerPort: number
  /** 0 = any free port. */
  localPort: number
  /** The pod's part, for messages ("master", "Spark Connect server"). */
  what: string
  /** The URL's scheme: http for the UI, sc for Spark Connect. */
  scheme: string
}

/** The Running, not-terminating pod behind the selector (looked up anew for each connection, so a replaced pod is followed). */
async function runningPod(kube: Kube, request: ForwardRequest): Promise<string> {
  const { items } = await kube.core.listNamespacedPod({ namespace: request.namespace, labelSelector: request.selector })
  const pod = items.find((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp)
  if (!pod) throw new Error(`no running ${request.what} pod in namespace ${request.namespace}`)
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

/**
 * What `kubectl port-forward` does, in process: a listener on both loopback addresses whose every
 * connection is a port-forward (client-node, over the API server) to a running pod behind the selector.
 */
export async function forwardToPods(kube: Kube, request: ForwardRequest): Promise<Forwarding> {
  const { namespace, containerPort } = request
  await requirePortForwardRight(kube, namespace)
  const first = await runningPod(kube, request)
  const forwarder = new kube.k8s.PortForward(kube.config)
  const sockets = new Set<Socket>()
  const say = (line: string) => console.error(`port-forward to the ${request.what}: ${line}`)
  // What the kubelet says on the error channel (the pod restarting, say), as one line each.
  const kubeletErrors = new Writable({ write: (chunk: Buffer, _encoding, done) => (say(chunk.toString().trim()), done()) })
  const listener = await listenOnLoopback((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    runningPod(kube, request)
      .then((pod) => forwarder.portForward(namespace, pod, [containerPort], socket, kubeletErrors, socket))
      .then((ws) => {
        if (typeof ws === 'function') return
        ws.on('close', () => socket.end())
        // The client may have given up while the forward was being set up.
        if (socket.destroyed) ws.close()
        else socket.on('close', () => ws.close())
      })
      .catch((error: unknown) => {
        say(`a connection could not be forwarded: ${errorMessage(error)}`)
        socket.destroy()
      })
  }, request.localPort)
  return {
    url: `${request.scheme}://localhost:${listener.port}`,
    how: `port-forward to pod ${first} port ${containerPort} through the API server`,
    keepsRunning: true,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await listener.close()
    },
  }
}
