// The REPL as `docker run -i` on the cluster's network, attached to this terminal; Docker removes it when it exits.
import type { V1Pod } from '@kubernetes/client-node'
import { withDeadlineCommand } from '../driver.ts'
import { onInterrupt } from '../interrupt.ts'
import { run } from '../proc.ts'
import type { Target } from '../target.ts'
import { dockerLayout, planContainer } from './containers.ts'

export async function runDockerShell(target: Target, pod: V1Pod, tty: boolean, say: (line: string) => void): Promise<number> {
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

