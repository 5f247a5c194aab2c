// minikube stop: CoreDNS is stopped in the node first (its lameduck would hold the power-off ~5 s),
// and a node that cannot be reached that way is still stopped, saying why it may have been slow.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { fake, type CannedResult } from './fake-proc.ts'

vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))
const { stopMinikube } = await import('../../scripts/minikube-stop.ts')

const profile = 'spark-contract'
const status = (host: string): CannedResult => ({
  stdout: JSON.stringify({ Name: profile, Host: host, Kubelet: host, APIServer: host, Kubeconfig: 'Configured', Worker: false }),
  exitCode: host === 'Running' ? 0 : 7,
})

beforeEach(() => fake.reset())

describe('stopMinikube', () => {
  it('stops the kubelet and kills CoreDNS in the node, then runs minikube stop', async () => {
    fake.answerByPrefix({ 'minikube status': status('Running'), 'minikube -p spark-contract ssh': {}, 'minikube stop': {} })
    expect(await stopMinikube(profile)).toEqual({ done: 'minikube profile spark-contract stopped' })
    const [, ssh, stop] = fake.calls
    expect(ssh.argv).toEqual(['minikube', '-p', profile, 'ssh', '--', 'sudo systemctl stop kubelet && { sudo pkill -KILL -x coredns || true; }'])
    expect(ssh.options).toMatchObject({ nothrow: true })
    expect(stop.line).toBe('minikube stop -p spark-contract')
  })

  it('still stops a node it cannot reach over minikube ssh, and says so', async () => {
    fake.answerByPrefix({ 'minikube status': status('Running'), 'minikube -p spark-contract ssh': { exitCode: 1, stderr: 'ssh: handshake failed: EOF\n' }, 'minikube stop': {} })
    expect(await stopMinikube(profile)).toEqual({ done: 'minikube profile spark-contract stopped (CoreDNS was not stopped first, so the node waited for it: ssh: handshake failed: EOF)' })
    expect(fake.lines().at(-1)).toBe('minikube stop -p spark-contract')
  })

  it('skips a stopped profile without touching it', async () => {
    fake.answerByPrefix({ 'minikube status': status('Stopped') })
    expect(await stopMinikube(profile)).toEqual({ skipped: 'minikube profile spark-contract is already stopped' })
    expect(fake.lines()).toEqual([expect.stringMatching(/^minikube status/)])
  })

  it('fails the step when minikube stop fails', async () => {
    fake.answerByPrefix({ 'minikube status': status('Running'), 'minikube -p spark-contract ssh': {}, 'minikube stop': { exitCode: 82, stderr: 'X Exiting due to GUEST_STOP_TIMEOUT' } })
    await expect(stopMinikube(profile)).rejects.toMatchObject({ exitCode: 82 })
  })
})
