import { StepError } from '../errors.ts'
import { requireFreeIpv6Loopback, requireFreeLoopback } from '../loopback.ts'
import { podTemplate, serverPort } from '../manifests.ts'
import { pollUntil } from '../poll.ts'
import { run } from '../proc.ts'
import type { ClusterServer, ServerSpec } from '../server.ts'
import type { Target } from '../target.ts'
import { dockerLayout, ensureClaimVolumes, ensureContainer, listContainers, ownClaimsTemplate, planContainer } from './containers.ts'

/** Docker: one container on the cluster's network, its port published on 127.0.0.1 like the master's. */
export function dockerServer(target: Target, { manifests, what, scheme }: ServerSpec): ClusterServer {
  const layout = dockerLayout(target.manifests)
  const name = manifests.deployment.metadata!.name!
  const role = manifests.deployment.metadata!.labels!.role
  const port = serverPort(manifests)
  const existing = async () => (await listContainers({ ...layout.ourLabels, role })).find((c) => c.name === name)
  return {
    what,
    // Running, or brought back by its restart policy; a stopped one was stopped by someone, and stays so.
    running: async () => {
      const found = await existing()
      return found && (found.state === 'running' || found.state === 'restarting') ? { image: found.image, annotations: found.labels } : undefined
    },
    apply: async (rendered) => {
      const template = podTemplate(rendered.deployment)
      const plan = planContainer(template, { name, network: layout.network, publish: [{ name: 'server', nodePort: port, containerPort: port }], restart: true })
      const live = await existing()
      // Docker would make the container, then fail to start it with its proxy's "address already in use".
      if (live?.state !== 'running') await requireFreeLoopback(port, `the ${what}`)
      // Its own claims (JupyterLab's notebooks) are labelled volumes, as the cluster's are.
      const made = rendered.claims?.length ? await ensureClaimVolumes(ownClaimsTemplate(template, rendered.claims), layout.ourLabels, mainImage(rendered)!) : []
      const change = await ensureContainer(plan, live)
      if (change === 'unchanged' && made.length === 0) return { skipped: `container ${name} already runs ${mainImage(rendered)}` }
      return { done: [...made.map((volume) => `volume ${volume} created`), ...(change === 'unchanged' ? [] : [`container ${name} ${change}`])].join(', ') }
    },
    waitReady: async (onProgress) =>
      pollUntil<string>(`container ${name} to accept connections`, target.config.timeoutSeconds * 1000, async () => {
        const inspected = await run({ nothrow: true })`docker inspect --format ${'{{.State.Status}} {{.RestartCount}} {{if .State.Health}}{{.State.Health.Status}}{{end}}'} ${name}`
        const [state, restarts, health] = inspected.stdout.trim().split(' ')
        if (health === 'healthy') return { done: `${name} accepts connections on port ${port}` }
        // The restart policy brings a crashed server back: one restart is already a crash to report.
        if (state === 'exited' || state === 'dead' || state === 'restarting' || Number(restarts) > 0) {
          const logs = await run({ nothrow: true })`docker logs --tail 20 ${name}`
          throw new StepError(`the ${what} exited`, `its last log lines:\n${logs.stdout}${logs.stderr}`)
        }
        return { waiting: `${name} ${state ?? 'missing'}, not accepting connections yet` }
      }, onProgress),
    // --port is for the port-forward; Docker publishes the manifest's port on 127.0.0.1, as it does the
    // master's: the client dials localhost, which may mean [::1], so no one else may hold that.
    reach: async () => {
      await requireFreeIpv6Loopback(port, `the ${what}`)
      return { url: `${scheme}://localhost:${port}`, how: 'published on loopback by Docker; nothing to keep running', keepsRunning: false, close: async () => {} }
    },
  }
}

const mainImage = (rendered: Parameters<ClusterServer['apply']>[0]) => podTemplate(rendered.deployment).spec!.containers[0].image
