// The Prometheus Operator's PodMonitors (manifests/monitoring/): applied with the cluster where the
// API server serves their kind, removed with it. Optional: without the CRD, or without the right to
// manage them in the namespace, Prometheus still finds the pods by their prometheus.io annotations.
import type { KubernetesObject } from '@kubernetes/client-node'
import { errorMessage } from '../errors.ts'
import type { StepOutcome } from '../outcome.ts'
import { applyToKubernetes } from './apply.ts'
import { isForbidden, isNotFound, kubeGet, type Kube } from './kube.ts'

/**
 * Whether the API server serves this kind: API discovery, which every signed-in user may read
 * (unlike the CustomResourceDefinitions themselves, which are cluster-scoped).
 */
export async function servesKind(kube: Kube, apiVersion: string, kind: string): Promise<boolean> {
  try {
    const list = JSON.parse(await kubeGet(kube, `/apis/${apiVersion}`)) as { resources?: Array<{ kind?: string }> }
    return (list.resources ?? []).some((resource) => resource.kind === kind)
  } catch (error) {
    if (isNotFound(error)) return false
    throw error
  }
}

const fallback = 'Prometheus finds the pods by their prometheus.io annotations'

/**
 * Applied after the cluster, and optional: whatever refuses them (permissions, a same-named PodMonitor
 * of someone else's, an admission webhook, a schema) is a skip with the reason, never a failed cluster:up.
 */
export async function applyPodMonitors(kube: Kube, monitors: KubernetesObject[], namespace: string): Promise<StepOutcome> {
  const { apiVersion, kind } = monitors[0]
  try {
    if (!(await servesKind(kube, apiVersion!, kind!))) return { skipped: `the cluster serves no ${apiVersion} ${kind} (the Prometheus Operator's CRDs are not installed); ${fallback}` }
    return await applyToKubernetes(kube, monitors.map((monitor) => ({ ...monitor, metadata: { ...monitor.metadata, namespace } })), namespace)
  } catch (error) {
    if (isForbidden(error)) return { skipped: `these credentials may not manage ${kind}s in namespace ${namespace}; ${fallback}` }
    return { skipped: `${kind}s not applied: ${errorMessage(error)}; ${fallback}, or run cluster:up again once that is fixed` }
  }
}
