import type { V1Deployment, V1DeploymentCondition, V1DeploymentStatus } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'
import { isNotFound, podBlocker, rolloutPending } from '../../scripts/lib/kube/kube.ts'

function deployment(options: { generation?: number; replicas?: number; status?: V1DeploymentStatus }): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'spark-worker', generation: options.generation ?? 2 },
    spec: { replicas: options.replicas, selector: { matchLabels: { app: 'spark' } }, template: {} },
    status: options.status,
  }
}

const progressing = (reason: string): V1DeploymentCondition => ({ type: 'Progressing', status: reason === 'ProgressDeadlineExceeded' ? 'False' : 'True', reason })

const complete: V1DeploymentStatus = {
  observedGeneration: 2,
  replicas: 3,
  updatedReplicas: 3,
  readyReplicas: 3,
  availableReplicas: 3,
  conditions: [progressing('NewReplicaSetAvailable')],
}

describe('rolloutPending', () => {
  it('is undefined for a complete rollout', () => {
    expect(rolloutPending(deployment({ replicas: 3, status: complete }))).toBeUndefined()
  })

  it('waits while observedGeneration is behind the generation', () => {
    const reason = rolloutPending(deployment({ generation: 3, replicas: 3, status: complete }))
    expect(reason).toBe('spark-worker: waiting for the controller to see the new spec')
  })

  it('waits when there is no status yet', () => {
    expect(rolloutPending(deployment({ generation: 1, replicas: 3 }))).toMatch(/controller to see the new spec/)
  })

  it('waits while updatedReplicas < replicas', () => {
    const reason = rolloutPending(deployment({ replicas: 3, status: { ...complete, updatedReplicas: 1, replicas: 3 } }))
    expect(reason).toBe('spark-worker: 1 of 3 new replicas updated')
  })

  it('waits while old replicas are pending termination', () => {
    const reason = rolloutPending(deployment({ replicas: 3, status: { ...complete, replicas: 4, updatedReplicas: 3 } }))
    expect(reason).toBe('spark-worker: 1 old replicas pending termination')
  })

  it('waits while fewer updated replicas are available', () => {
    const reason = rolloutPending(deployment({ replicas: 3, status: { ...complete, availableReplicas: 2 } }))
    expect(reason).toBe('spark-worker: 2 of 3 updated replicas available')
    expect(rolloutPending(deployment({ replicas: 3, status: { ...complete, availableReplicas: undefined } }))).toBe('spark-worker: 0 of 3 updated replicas available')
  })

  it('throws when the progress deadline is exceeded', () => {
    const status = { ...complete, updatedReplicas: 1, conditions: [progressing('ProgressDeadlineExceeded')] }
    expect(() => rolloutPending(deployment({ replicas: 3, status }))).toThrow('spark-worker exceeded its progress deadline')
  })

  it('does not judge the deadline of a spec the controller has not seen yet', () => {
    const status = { ...complete, observedGeneration: 1, conditions: [progressing('ProgressDeadlineExceeded')] }
    expect(rolloutPending(deployment({ generation: 2, replicas: 3, status }))).toMatch(/controller to see the new spec/)
  })

  it('defaults spec.replicas to 1', () => {
    const status = { observedGeneration: 2, replicas: 1, updatedReplicas: 0, availableReplicas: 0 }
    expect(rolloutPending(deployment({ status }))).toBe('spark-worker: 0 of 1 new replicas updated')
    expect(rolloutPending(deployment({ status: { ...status, updatedReplicas: 1, availableReplicas: 1 } }))).toBeUndefined()
  })

  it('a Deployment scaled to 0 is complete once no replicas are left', () => {
    expect(rolloutPending(deployment({ replicas: 0, status: { observedGeneration: 2 } }))).toBeUndefined()
    expect(rolloutPending(deployment({ replicas: 0, status: { observedGeneration: 2, replicas: 1 } }))).toMatch(/old replicas pending/)
  })
})

describe('isNotFound', () => {
  it('recognises an API error with code 404 only', () => {
    expect(isNotFound({ code: 404 })).toBe(true)
    expect(isNotFound(Object.assign(new Error('x'), { code: 404 }))).toBe(true)
    expect(isNotFound({ code: 409 })).toBe(false)
    expect(isNotFound(new Error('404'))).toBe(false)
  })
})

describe('podBlocker', () => {
  const now = Date.parse('2026-11-24T12:00:30Z')
  const pod = (status: import('@kubernetes/client-node').V1PodStatus, deleting = false): import('@kubernetes/client-node').V1Pod => ({
    metadata: { name: 'spark-worker-7d9-x', ...(deleting ? { deletionTimestamp: new Date(now) } : {}) },
    status,
  })
  const unschedulable = (since: string) => ({ conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.', lastTransitionTime: new Date(since) }] })

  it('reports an Unschedulable pod with the scheduler message once it has been so for the grace period, by our clock', () => {
    const firstSeen = new Map<string, number>()
    // The server says since an hour ago; our own first sighting is what counts (clocks differ).
    const stuck = pod(unschedulable('2026-11-24T11:00:00Z'))
    expect(podBlocker(stuck, firstSeen, now)).toBeUndefined()
    expect(podBlocker(stuck, firstSeen, now + 19_000)).toBeUndefined()
    expect(podBlocker(stuck, firstSeen, now + 20_000)).toBe('pod spark-worker-7d9-x cannot be scheduled: 0/1 nodes are available: 1 Insufficient cpu.')
  })

  it('reports image pull back-off and crash loops at once, in the kubelet words', () => {
    const waiting = (reason: string, message?: string, last?: object) => pod({ containerStatuses: [{ name: 'c', image: 'i', imageID: '', ready: false, restartCount: 3, state: { waiting: { reason, message } }, lastState: last }] })
    const seen = new Map<string, number>()
    expect(podBlocker(waiting('ImagePullBackOff', 'Back-off pulling image "x:1"'), seen, now)).toBe('pod spark-worker-7d9-x: ImagePullBackOff: Back-off pulling image "x:1"')
    expect(podBlocker(waiting('CrashLoopBackOff', 'back-off 40s restarting failed container', { terminated: { exitCode: 137, reason: 'OOMKilled' } }), seen, now)).toBe(
      'pod spark-worker-7d9-x: CrashLoopBackOff (last exit code 137, OOMKilled): back-off 40s restarting failed container',
    )
    // A first pull failure may still succeed on retry; its back-off follows within seconds.
    expect(podBlocker(waiting('ErrImagePull'), seen, now)).toBeUndefined()
    expect(podBlocker(waiting('ContainerCreating'), seen, now)).toBeUndefined()
  })

  it('ignores a pod that is being deleted', () => {
    const seen = new Map([['', now - 60_000]])
    expect(podBlocker(pod(unschedulable('2026-11-24T11:00:00Z'), true), seen, now)).toBeUndefined()
  })
})
