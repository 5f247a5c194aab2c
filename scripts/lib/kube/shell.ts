// The REPL as a pod attached to this terminal through the API server; deleted when it ends (also on Ctrl-C).
import type { V1Pod } from '@kubernetes/client-node'
import { StepError } from '../errors.ts'
import { onInterrupt } from '../interrupt.ts'
import { pollUntil } from '../poll.ts'
import type { Target } from '../target.ts'
import { blockerWatch, type Kube } from './kube.ts'

export async function runKubeShell(target: Target, pod: V1Pod, tty: boolean, say: (line: string) => void): Promise<number> {
  const kube = await target.kube()
  const namespace = target.config.namespace
  const name = pod.metadata!.name!
  const container = pod.spec!.containers[0].name
  const remove = () => kube.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }).catch(() => undefined)
  const forget = onInterrupt(remove)
  try {
    await kube.core.createNamespacedPod({ namespace, body: pod })
    const blockerOf = blockerWatch()
    await pollUntil<true>(`pod ${name} to start`, target.config.timeoutSeconds * 1000, async () => {
      const current = await kube.core.readNamespacedPod({ name, namespace })
      const blocker = blockerOf(current)
      if (blocker) throw new StepError(`the shell cannot start: ${blocker}`)
      return current.status?.phase === 'Pending' ? { waiting: 'pod Pending' } : { done: true }
    })
    say(`attached to pod ${name} (exit with Ctrl-D or exit())`)
    await attach(kube, namespace, name, container, tty)
    return await pollUntil<number>(`pod ${name} to finish`, 60_000, async () => {
      const current = await kube.core.readNamespacedPod({ name, namespace })
      const terminated = current.status?.containerStatuses?.[0]?.state?.terminated
      return terminated ? { done: terminated.exitCode } : { waiting: current.status?.phase ?? 'unknown' }
    })
  } finally {
    forget()
    await remove()
  }
}

/** This terminal (or pipe) joined to the container's: raw keys for a TTY; closing stdin ends the REPL. */
async function attach(kube: Kube, namespace: string, pod: string, container: string, tty: boolean): Promise<void> {
  if (tty) process.stdin.setRawMode(true)
  try {
    const ws = await new kube.k8s.Attach(kube.config).attach(namespace, pod, container, process.stdout, tty ? null : process.stderr, process.stdin, tty)
    await new Promise<void>((resolve) => ws.on('close', () => resolve()))
  } finally {
    if (tty) process.stdin.setRawMode(false)
    process.stdin.pause()
  }
}

