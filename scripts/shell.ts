#!/usr/bin/env -S npx tsx
// An interactive pyspark REPL whose driver runs in the cluster (so executors can reach it): a pod
// attached to this terminal through the API server, or a container run with -i on the cluster's
// Docker network. Typed or piped input both work; the pod or container is removed on exit.
import type { V1PodTemplateSpec } from '@kubernetes/client-node'
import { clusterDrivers } from './lib/cluster-image.ts'
import { parseConfig } from './lib/config.ts'
import { uniqueName } from './lib/driver.ts'
import { installInterruptHandler } from './lib/interrupt.ts'
import { runIfMain } from './lib/main.ts'
import { renderShellPod } from './lib/manifests.ts'
import { withStorage } from './lib/storage.ts'
import { resolvePlatform } from './lib/platform.ts'
import { makeTarget, type Target } from './lib/target.ts'

/** Runs the REPL until it exits; returns its exit code. */
export async function runShell(target: Target, say: (line: string) => void = (line) => console.error(`shell: ${line}`)): Promise<number> {
  const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY)
  const { image, storage } = await clusterDrivers(target)
  const pod = renderShellPod(target.manifests, { image, namespace: target.config.namespace, tty })
  withStorage(pod as V1PodTemplateSpec, storage)
  pod.metadata = { ...pod.metadata, name: uniqueName(pod.metadata!.generateName!), generateName: undefined }
  return target.runtime.runShell(pod, tty, say)
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('shell', process.argv.slice(2))
  installInterruptHandler()
  const { platform } = await resolvePlatform(config)
  process.exitCode = await runShell(makeTarget(config, platform))
})
