// Publishing the image: straight into minikube, checked afterwards, since `minikube image load` can
// exit 0 without loading (it only logs a node's failure). minikube's output is the recorded one.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { StepError } from '../../scripts/lib/errors.ts'
import { repoRoot } from '../../scripts/lib/paths.ts'
import { fake } from './fake-proc.ts'

vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))
const { publishToKubernetes: pushImage } = await import('../../scripts/lib/kube/publish.ts')

const reference = 'spark-standalone:4.0.1-0123456789ab'
const profile = 'spark-contract'
/** What `minikube image ls` printed for a profile with no images (recorded from v1.37.0). */
const noImages = JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/minikube/v1.37.0/image-ls-node-gone.json'), 'utf8')) as { stdout: string }
const withImage = { stdout: `registry.k8s.io/pause:3.10\ndocker.io/library/${reference}\n` }

beforeEach(() => fake.reset())

describe('publishToKubernetes on minikube', () => {
  it('skips when minikube already lists the image (docker.io/library/ prefix and all)', async () => {
    fake.reset(() => withImage)
    expect(await pushImage(reference, 'minikube', { profile })).toEqual({ skipped: `image ${reference} already in minikube ${profile}` })
    expect(fake.lines()).toEqual([`minikube -p ${profile} image ls`])
  })

  it('loads the image and checks that minikube now lists it', async () => {
    let listed = 0
    fake.reset((command) => (command.line.endsWith('image ls') ? (listed++ === 0 ? noImages : withImage) : {}))
    expect(await pushImage(reference, 'minikube', { profile })).toEqual({ done: `loaded ${reference} into minikube ${profile}` })
    expect(fake.lines()).toEqual([`minikube -p ${profile} image ls`, `minikube -p ${profile} image load ${reference}`, `minikube -p ${profile} image ls`])
  })

  it('fails naming the profile and the image when image load exited 0 but nothing was loaded', async () => {
    fake.reset((command) => (command.line.endsWith('image ls') ? noImages : { exitCode: 0 }))
    const error = (await pushImage(reference, 'minikube', { profile }).catch((e: unknown) => e)) as StepError
    expect(error).toBeInstanceOf(StepError)
    expect(error.message).toBe(`minikube profile ${profile} does not list image ${reference} after \`minikube image load\` (which exited 0)`)
    expect(error.details).toContain(`minikube -p ${profile} image load ${reference} --alsologtostderr`)
  })

  it('pushes to --registry instead, and leaves minikube alone', async () => {
    await pushImage(`127.0.0.1:1/${reference}`, 'minikube', { profile, registry: '127.0.0.1:1' })
    expect(fake.lines()).toEqual([`docker push 127.0.0.1:1/${reference}`])
  })
})
