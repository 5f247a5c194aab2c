#!/usr/bin/env -S npx tsx
// README step "kubectl apply -f spark-master.yml / spark-worker.yml": server-side apply of the parsed
// manifests with only the run-time values set, after the cluster's Secret (RPC authentication and
// encryption); on Docker the same pod templates become containers and the Secret a volume.
import { parseConfig } from './lib/config.ts'
import { applyToDocker } from './lib/docker-apply.ts'
import { applyToKubernetes } from './lib/kube-apply.ts'
import { describeAuthChange, withAuthConf } from './lib/cluster-secret.ts'
import { declaredAuthSecret } from './lib/kube-secret.ts'
import { runIfMain } from './lib/main.ts'
import { asClusterIp, renderCluster } from './lib/manifests.ts'
import { planRecoveryStorage } from './lib/kube-recovery.ts'
import { describeOutcome, withNote, type StepOutcome } from './lib/outcome.ts'
import { resolvePlatform } from './lib/platform.ts'
import { makeTarget, type Target } from './lib/target.ts'
import { imageReference } from './build-image.ts'

/** Applies the cluster where the target says: server-side apply on Kubernetes, containers on Docker. */
export async function applyCluster(target: Target, image: string): Promise<StepOutcome> {
  const shape = { ...target.config, image }
  if (target.platform === 'docker') return applyToDocker(target.manifests, shape, target.config)
  const rendered = renderCluster(target.manifests, shape)
  const kube = await target.kube()
  const auth = await declaredAuthSecret(kube, target.manifests, target.config.namespace, target.config)
  const service = exposure(target) === 'nodeport' ? rendered.service : asClusterIp(rendered.service)
  const recovery = await planRecoveryStorage(kube, rendered.recoveryClaim, withAuthConf(rendered.master, auth.conf))
  const objects = [auth.secret, ...(recovery.claim ? [recovery.claim] : []), recovery.master, service, rendered.networkPolicy, withAuthConf(rendered.worker, auth.conf), rendered.workerBudget]
  const outcome = await applyToKubernetes(kube, objects, target.config.namespace, [auth.secret])
  const notes = [auth.change?.kind === 'repaired' ? describeAuthChange(`secret/${auth.secret.metadata!.name}`, auth.change) : '', recovery.note ?? ''].filter(Boolean)
  return notes.length ? withNote(outcome, notes.join('; ')) : outcome
}

/**
 * NodePorts face every node's address: fine on minikube (a local VM, and the classic README's
 * path), asked for explicitly on a shared cluster, where the UI goes through the API server instead.
 */
export function exposure(target: Target): 'nodeport' | 'clusterip' {
  return target.config.expose ?? (target.platform === 'kubernetes' ? 'clusterip' : 'nodeport')
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('up', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  console.log(describeOutcome(await applyCluster(makeTarget(config, platform), imageReference(config))))
})
