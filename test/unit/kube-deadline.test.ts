// Every Kubernetes API call has a deadline: against a real TCP server that accepts the connection and
// never answers (as a wedged API server or a stuck proxy does), each call, a watch and a whole wait
// end within the deadline, with one line naming the server, instead of hanging.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { StepError } from '../../scripts/lib/errors.ts'
import { connectKube, type Kube } from '../../scripts/lib/kube/kube.ts'
import { waitForDeployments } from '../../scripts/lib/kube/rollout.ts'

const deadlineMs = 200
let server: Server
let kubeconfig: string
let url: string
const sockets: Socket[] = []
let kube: Kube

beforeAll(async () => {
  server = createServer((socket) => void sockets.push(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  kubeconfig = join(mkdtempSync(join(tmpdir(), 'ssk8s-hung-api-')), 'config')
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'hung', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'hung', user: { token: 'fake-token' } }],
      contexts: [{ name: 'hung', context: { cluster: 'hung', user: 'hung' } }],
      'current-context': 'hung',
    }),
  )
  kube = await connectKube('hung', kubeconfig, { requestDeadlineMs: deadlineMs })
})
afterAll(async () => {
  for (const socket of sockets) socket.destroy()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  rmSync(join(kubeconfig, '..'), { recursive: true, force: true })
})

const unanswered = (method: string, path: string) =>
  `the Kubernetes API server at ${url} did not answer ${method} ${path} within 0.2 s; hint: check that the cluster is up and reachable from here (\`kubectl --context hung get --raw /readyz\`)`

describe('a Kubernetes API server that accepts and never answers', () => {
  it('fails a typed call, and one of the generic object client, with one line naming the server', async () => {
    const read = kube.apps.readNamespacedDeployment({ name: 'spark-master', namespace: 'spark' })
    await expect(read).rejects.toBeInstanceOf(StepError)
    await expect(read).rejects.toThrow(unanswered('GET', '/apis/apps/v1/namespaces/spark/deployments/spark-master'))
    await expect(kube.core.listNamespacedPod({ namespace: 'spark', labelSelector: 'app=spark' })).rejects.toThrow(unanswered('GET', '/api/v1/namespaces/spark/pods'))
    // The object client first asks the server which resource a kind is.
    await expect(kube.objects.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'spark-auth', namespace: 'spark' } })).rejects.toThrow(unanswered('GET', '/api/v1'))
  })

  it('fails a client made later from the same config too (check-deps asks the version that way)', async () => {
    await expect(kube.config.makeApiClient(kube.k8s.VersionApi).getCode()).rejects.toThrow(unanswered('GET', '/version'))
  })

  it('ends a watch that gets no answer, so closing the wait can abort it', async () => {
    const ended = new Promise<unknown>((resolve) => {
      new kube.k8s.Watch(kube.config).watch('/api/v1/namespaces/spark/pods', {}, () => undefined, resolve).catch(resolve)
    })
    expect(String(await ended)).toMatch(/network timeout/)
  })

  it('fails the WebSocket of an attach (shell) or a port-forward (ui, connect) that is never upgraded', async () => {
    await expect(new kube.k8s.Attach(kube.config).attach('spark', 'spark-shell', 'shell', null, null, null, false)).rejects.toThrow(/handshake has timed out/)
  })

  it('ends a rollout wait with that line long before its own timeout', async () => {
    const wait = waitForDeployments(kube, 'spark', ['spark-master'], 'app=spark', 600_000)
    await expect(wait).rejects.toThrow(unanswered('GET', '/apis/apps/v1/namespaces/spark/deployments/spark-master'))
  })
})
