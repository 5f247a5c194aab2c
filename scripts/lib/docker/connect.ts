import { withAuthConf } from '../cluster-secret.ts'
import type { ConnectServer } from '../connect-server.ts'
import { dockerLayout, ensureContainer, listContainers, planContainer } from './containers.ts'
import { volumeAuthConf } from './secret.ts'
import { StepError } from '../errors.ts'
import { requireFreeIpv6Loopback } from '../loopback.ts'
import { connectPort, podTemplate, renderConnect } from '../manifests.ts'
import { pollUntil } from '../poll.ts'
import { run } from '../proc.ts'
import type { Target } from '../target.ts'

/** Docker: one container on the cluster's network, its port published on 127.0.0.1 like the master's. */
export function dockerConnect(target: Target): ConnectServer {
  const layout = dockerLayout(target.manifests)
  const name = target.manifests.connect.deployment.metadata!.name!
  const port = connectPort(target.manifests)
  return {
    apply: async (image, authConf) => {
      const { deployment } = renderConnect(target.manifests, { image, namespace: target.config.namespace })
      const plan = planContainer(podTemplate(withAuthConf(deployment, authConf)), { name, network: layout.network, publish: [{ name: 'grpc', nodePort: port, containerPort: port }], restart: true })
      const existing = (await listContainers({ ...layout.ourLabels, role: 'connect' })).find((c) => c.name === name)
      const change = await ensureContainer(plan, existing)
      return change === 'unchanged' ? { skipped: `container ${name} already runs ${image}` } : { done: `container ${name} ${change}` }
    },
    waitReady: async (onProgress) =>
      pollUntil<string>(`container ${name} to accept connections`, target.config.timeoutSeconds * 1000, async () => {
        const inspected = await run({ nothrow: true })`docker inspect --format ${'{{.State.Status}} {{.RestartCount}} {{if .State.Health}}{{.State.Health.Status}}{{end}}'} ${name}`
        const [state, restarts, health] = inspected.stdout.trim().split(' ')
        if (health === 'healthy') return { done: `${name} accepts connections on port ${port}` }
        // The restart policy brings a crashed server back: one restart is already a crash to report.
        if (state === 'exited' || state === 'dead' || state === 'restarting' || Number(restarts) > 0) {
          const logs = await run({ nothrow: true })`docker logs --tail 20 ${name}`
          throw new StepError(`the Spark Connect server exited`, `its last log lines:\n${logs.stdout}${logs.stderr}`)
        }
        return { waiting: `${name} ${state ?? 'missing'}, not accepting connections yet` }
      }, onProgress),
    authConf: async (image) => volumeAuthConf(target.manifests, image),
    // --port is for the port-forward; Docker publishes the manifest's port on 127.0.0.1, as it does the
    // master's: the client dials localhost, which may mean [::1], so no one else may hold that.
    reach: async () => {
      await requireFreeIpv6Loopback(port, 'the Spark Connect server')
      return { url: `sc://localhost:${port}`, how: 'published on loopback by Docker; nothing to keep running', keepsRunning: false, close: async () => {} }
    },
  }
}
