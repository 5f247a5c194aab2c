#!/usr/bin/env -S npx tsx
// An interactive pyspark REPL whose driver runs in the cluster (so executors can reach it): a pod
// attached to this terminal through the API server, or a container run with -i on the cluster's
// Docker network. Typed or piped input both work; the pod or container is removed on exit.
import type { V1Pod } from '@kubernetes/client-node'
import { clusterImage } from './lib/cluster-image.ts'
import { parseConfig } from './lib/config.ts'
import { dockerLayout, planContainer } from './lib/docker.ts'
import { uniqueName, withDeadlineCommand } from './lib/driver.ts'
import { StepError } from './lib/errors.ts'
import { installInterruptHandler, onInterrupt } from './lib/interrupt.ts'
import { blockerWatch, type Kube } from './lib/kube.ts'
import { runIfMain } from './lib/main.ts'
import { renderShellPod } from './lib/manifests.ts'
import { resolvePlatform } from './lib/platform.ts'
import { pollUntil } from './lib/poll.ts'
import { run } from './lib/proc.ts'
import { makeTarget, type Target } from './lib/target.ts'

/** Runs the REPL until it exits; returns its exit code. */
export async function runShell(target: Target, say: (line: string) => void = (line) => console.error(`shell: ${line}`)): Promise<number> {
  const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY)
  const pod = renderShellPod(target.manifests, { image: await clusterImage(target), namespace: target.config.namespace, tty })
  pod.metadata = { ...pod.metadata, name: uniqueName(pod.metadata!.generateName!), generateName: undefined }
  return target.platform === 'docker' ? shellOnDocker(target, pod, tty, say) : shellOnKubernetes(target, pod, tty, say)
}

async function shellOnDocker(target: Target, pod: V1Pod, tty: boolean, say: (line: string) => void): Promise<number> {
  const name = pod.metadata!.name!
  // Docker has no activeDeadlineSeconds: the command stops itself at the pod's deadline.
  const template = withDeadlineCommand({ metadata: pod.metadata, spec: pod.spec }, pod.spec!.activeDeadlineSeconds, true)
  const plan = planContainer(template, { name, network: dockerLayout(target.manifests).network, restart: false, attached: true })
  // The REPL reads the user's terminal; Docker removes the container when it exits.
  const args = ['--interactive', ...(tty ? ['--tty'] : []), ...plan.runArgs]
  const forget = onInterrupt(() => run({ nothrow: true })`docker rm --force ${name}`)
  try {
    say(`starting pyspark in container ${name} (exit with Ctrl-D or exit())`)
    const repl = await run({ stdio: 'inherit', nothrow: true })`docker run ${args}`
    return repl.exitCode ?? 1
  } finally {
    forget()
    await run({ nothrow: true })`docker rm --force ${name}`
  }
}

async function shellOnKubernetes(target: Target, pod: V1Pod, tty: boolean, say: (line: string) => void): Promise<number> {
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

runIfMain(import.meta.url, async () => {
  const config = parseConfig('shell', process.argv.slice(2))
  installInterruptHandler()
  const { platform } = await resolvePlatform(config)
  process.exitCode = await runShell(makeTarget(config, platform))
})
