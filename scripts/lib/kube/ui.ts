import { isForbidden, isNotFound, kubeGet, type Kube } from './kube.ts'
import { podsOf, uiPort } from '../manifests.ts'
import type { MasterUi } from '../master-ui.ts'
import { forwardToPods } from './port-forward.ts'
import { run } from '../proc.ts'
import type { MasterState } from '../spark-ui.ts'
import type { Target } from '../target.ts'
import { fetchWithin } from '../http.ts'

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
  const proxyPath = `/api/v1/namespaces/${namespace}/services/${service}:${port.name}/proxy`
  // Where a NodePort URL would be is looked up while the UI is first read, so the link costs only its probe.
  let located: Promise<string | undefined> | undefined
  const locate = () => (located ??= target.kube().then((kube) => nodePortUrl(target, kube)))
  return {
    via: `through the Kubernetes API server (service ${service}:${port.name} in namespace ${namespace})`,
    readState: async () => {
      locate().catch(() => undefined) // its error, if any, is link()'s to report
      return JSON.parse(await kubeGet(await target.kube(), `${proxyPath}/json/`)) as MasterState
    },
    get: async (path, timeoutMs) => kubeGet(await target.kube(), `${proxyPath}${path}`, timeoutMs),
    link: async () => {
      const url = await locate()
      return url && (await answers(url)) ? { url } : { hint: uiHint }
    },
    forward: async (localPort) =>
      forwardToPods(await target.kube(), {
        namespace,
        selector: podsOf(target.manifests.master),
        containerPort: port.containerPort,
        localPort,
        what: 'master',
        scheme: 'http',
      }),
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
    return (await fetchWithin(new URL('/json/', url), 1_500)).ok
  } catch {
    return false
  }
}

