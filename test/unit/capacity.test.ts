// The room check: what the cluster requests, read from the manifests, against what nodes have free.
import { describe, expect, it } from 'vitest'
import { clusterRequests, describeRequests, fits, formatRoom, mostWorkersThatFit, requireRoom, total } from '../../scripts/lib/capacity.ts'
import { StepError } from '../../scripts/lib/errors.ts'
import { loadManifests } from '../../scripts/lib/manifests.ts'

const manifests = loadManifests()
const shape = { workers: 2, workerCores: 1, workerMemory: '1g' }

describe('clusterRequests', () => {
  it('is the master, each worker and one Pi driver, as the manifests request them', () => {
    const pods = clusterRequests(manifests, shape)
    expect(pods.map((pod) => pod.role)).toEqual(['master', 'worker', 'worker', 'driver'])
    expect(pods[0]).toMatchObject({ cpu: 0.1, memoryMiB: 1024 })
    // Worker: half of its cores requested; SPARK_WORKER_MEMORY plus the daemon's 1 GiB.
    expect(pods[1]).toMatchObject({ cpu: 0.5, memoryMiB: 2048 })
    expect(pods[3]).toMatchObject({ cpu: 0.25, memoryMiB: 1024 })
    expect(formatRoom(total(pods))).toBe('1.35 CPUs / 6144 MiB')
    expect(describeRequests(pods)).toBe('master 0.1/1024, 2 workers × 0.5/2048, Pi driver 0.25/1024 (CPUs/MiB)')
  })

  it('follows the worker shape', () => {
    const pods = clusterRequests(manifests, { workers: 1, workerCores: 4, workerMemory: '4g' })
    expect(pods.find((pod) => pod.role === 'worker')).toMatchObject({ cpu: 2, memoryMiB: 4096 + 410 + 3 * 384 + 256 + 384 })
  })
})

describe('fits', () => {
  it('places the largest pods first onto the first node with room', () => {
    expect(fits([{ cpu: 1, memoryMiB: 1000 }, { cpu: 1, memoryMiB: 1000 }], [{ cpu: 1, memoryMiB: 1000 }, { cpu: 1, memoryMiB: 1000 }])).toBe(true)
    // Enough in total, but no single node holds the big pod.
    expect(fits([{ cpu: 2, memoryMiB: 100 }], [{ cpu: 1, memoryMiB: 1000 }, { cpu: 1, memoryMiB: 1000 }])).toBe(false)
    expect(fits([{ cpu: 0.5, memoryMiB: 2048 }], [{ cpu: 0.5, memoryMiB: 2048 }])).toBe(true)
    expect(fits([{ cpu: 0.1, memoryMiB: 1 }], [])).toBe(false)
  })
})

describe('requireRoom', () => {
  const laptop = [{ cpu: 2, memoryMiB: 8000 }]

  it('says what is requested and what is free when it fits', () => {
    expect(requireRoom(manifests, shape, laptop, 'node minikube', 'grow')).toBe('1.35 CPUs / 6144 MiB requested, 2 CPUs / 8000 MiB free on node minikube')
  })

  it('refuses with the numbers and both remedies, naming how many workers would fit', () => {
    const error = (() => {
      try {
        requireRoom(manifests, { ...shape, workers: 4 }, laptop, 'node minikube', 'or recreate the profile')
      } catch (e) {
        return e
      }
    })() as StepError
    expect(error).toBeInstanceOf(StepError)
    expect(error.message).toBe(
      'node minikube has no room for this cluster: it requests 2.35 CPUs / 10240 MiB (master 0.1/1024, 4 workers × 0.5/2048, Pi driver 0.25/1024 (CPUs/MiB)), 2 CPUs / 8000 MiB is free',
    )
    expect(error.details).toBe('  - ask for less: at most 2 workers of this size fit (--workers 2), or make each smaller (--worker-cores, --worker-memory)\n  - or recreate the profile')
  })

  it('says when not even one worker fits', () => {
    expect(mostWorkersThatFit(manifests, shape, [{ cpu: 0.5, memoryMiB: 8000 }])).toBe(0)
    expect(() => requireRoom(manifests, shape, [{ cpu: 0.5, memoryMiB: 8000 }], 'node n', 'grow')).toThrow(StepError)
  })
})
