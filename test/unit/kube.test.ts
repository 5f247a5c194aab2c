import type { V1Deployment, V1DeploymentCondition, V1DeploymentStatus } from '@kubernetes/client-node'
import { describe, expect, it, vi } from 'vitest'
import { failedMountGraceMs, isNotFound, mountBlocker, mountWatch, podBlocker, rolloutPending, type Kube } from '../../scripts/lib/kube/kube.ts'

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

describe('mountBlocker', () => {
  type Event = import('@kubernetes/client-node').CoreV1Event
  const now = Date.parse('2026-11-24T12:00:30Z')
  const pod: import('@kubernetes/client-node').V1Pod = { metadata: { name: 'spark-master-5c7-x', namespace: 'default', uid: 'u1' }, status: { phase: 'Pending' } }
  // The kubelet's events, as `kubectl get events` shows them for a pod whose hostPath (type Directory) is not on the node.
  const event = (reason: string, message: string, count: number, at: string): Event => ({
    metadata: { name: `spark-master-5c7-x.${reason}` },
    involvedObject: { kind: 'Pod', name: 'spark-master-5c7-x', uid: 'u1' },
    type: reason === 'FailedMount' ? 'Warning' : 'Normal',
    reason,
    message,
    count,
    lastTimestamp: new Date(at),
    source: { component: 'kubelet' },
  })
  const hostPathMissing = event('FailedMount', 'MountVolume.SetUp failed for volume "data" : hostPath type check failed: /mnt/spark-data is not a directory', 7, '2026-11-24T12:00:20Z')
  const summary = event('FailedMount', 'Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data recovery]: timed out waiting for the condition', 1, '2026-11-24T12:00:25Z')

  it('ends the wait once the kubelet has failed the same mount again for the grace period by our clock, with its own message in one line and a hint', () => {
    const firstSeen = new Map<string, number>()
    expect(mountBlocker(pod, [hostPathMissing, summary], firstSeen, now)).toBeUndefined()
    expect(mountBlocker(pod, [hostPathMissing, summary], firstSeen, now + failedMountGraceMs - 1_000)).toBeUndefined()
    const blocked = mountBlocker(pod, [hostPathMissing, summary], firstSeen, now + failedMountGraceMs)
    // The specific cause, not the newer "timed out" summary.
    expect(blocked?.message).toBe('pod spark-master-5c7-x cannot mount its volumes: MountVolume.SetUp failed for volume "data" : hostPath type check failed: /mnt/spark-data is not a directory')
    expect(blocked?.hint).toContain('`kubectl describe pod spark-master-5c7-x -n default`')
    const multiLine = event('FailedMount', 'MountVolume.SetUp failed for volume "nfs" : mount failed: exit status 32\nMounting command: mount\nOutput: mount.nfs: access denied', 3, '2026-11-24T12:00:21Z')
    expect(mountBlocker(pod, [multiLine], firstSeen, now + failedMountGraceMs)?.message).toBe(
      'pod spark-master-5c7-x cannot mount its volumes: MountVolume.SetUp failed for volume "nfs" : mount failed: exit status 32 Mounting command: mount Output: mount.nfs: access denied',
    )
  })

  it('waits while a FailedMount was seen once only, and for good once a container was pulled or started (the mounts succeeded)', () => {
    const once = event('FailedMount', 'MountVolume.SetUp failed for volume "auth" : secret "spark-auth" not found', 1, '2026-11-24T12:00:01Z')
    const seen = new Map([['u1', now - 60_000]])
    expect(mountBlocker(pod, [once], seen, now)).toBeUndefined()
    // The kubelet's cache had not seen the ConfigMap yet: it mounted on a retry and went on to the image.
    const notRegistered = event('FailedMount', 'MountVolume.SetUp failed for volume "conf" : object "default"/"spark-conf" not registered', 3, '2026-11-24T12:00:02Z')
    for (const after of ['Pulling', 'Pulled', 'Created', 'Started']) {
      expect(mountBlocker(pod, [notRegistered, event(after, 'image "spark:x"', 1, '2026-11-24T12:00:04Z')], seen, now), after).toBeUndefined()
    }
    expect(mountBlocker(pod, [], seen, now)).toBeUndefined()
  })

  it('mountWatch reads the events of scheduled, not yet started pods only, by uid', async () => {
    const asked: unknown[] = []
    const kube = { core: { listNamespacedEvent: async (request: unknown) => (asked.push(request), { items: [hostPathMissing] }) } } as unknown as Kube
    const scheduled = { type: 'PodScheduled', status: 'True' }
    const pods: import('@kubernetes/client-node').V1Pod[] = [
      { metadata: { name: 'running', namespace: 'default', uid: 'r' }, status: { phase: 'Running', conditions: [scheduled] } },
      { metadata: { name: 'unscheduled', namespace: 'default', uid: 'n' }, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] } },
      { metadata: { name: 'going', namespace: 'default', uid: 'g', deletionTimestamp: new Date(now) }, status: { phase: 'Pending', conditions: [scheduled] } },
      { ...pod, status: { phase: 'Pending', conditions: [scheduled] } },
    ]
    vi.useFakeTimers({ now })
    try {
      const blockerOf = mountWatch(kube)
      expect(await blockerOf(pods)).toBeUndefined()
      vi.setSystemTime(now + failedMountGraceMs)
      expect((await blockerOf(pods))?.message).toMatch(/^pod spark-master-5c7-x cannot mount its volumes: MountVolume\.SetUp failed for volume "data"/)
    } finally {
      vi.useRealTimers()
    }
    expect(asked).toEqual([
      { namespace: 'default', fieldSelector: 'involvedObject.uid=u1' },
      { namespace: 'default', fieldSelector: 'involvedObject.uid=u1' },
    ])
  })

  it('mountWatch waits as before when the credentials may not read events, and passes on any other failure', async () => {
    const failing = (code: number) => ({ core: { listNamespacedEvent: async () => Promise.reject(Object.assign(new Error(`HTTP-Code: ${code}`), { code })) } }) as unknown as Kube
    const pending = [{ ...pod, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] } }]
    expect(await mountWatch(failing(403))(pending)).toBeUndefined()
    await expect(mountWatch(failing(500))(pending)).rejects.toThrow('HTTP-Code: 500')
  })
})
