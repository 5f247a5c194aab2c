// Publishing the image: straight into minikube (streamed into a docker-driver node's runtime, else
// `minikube image load`), checked afterwards, since `minikube image load` can exit 0 without loading
// (it only logs a node's failure); to a registry always pushed, deployed by the digest the push reports.
// minikube's output is the recorded one.
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { StepError } from '../../scripts/lib/errors.ts'
import { repoRoot } from '../../scripts/lib/paths.ts'
import { fake } from './fake-proc.ts'

vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))
const { publishToKubernetes: pushImage } = await import('../../scripts/lib/kube/publish.ts')

const reference = 'spark-standalone:4.0.1-0123456789ab'
const profile = 'spark-contract'
/** The built image's ID as this machine's engine reports it on the classic image store (its config digest): what the node knows it by after the load. */
const id = `sha256:${'ab'.repeat(32)}`
/** `minikube image ls --format json` (v1.37.0, cache_images.go): a node with no images, and one holding the pause image and ours (containerd's IDs are whole). */
const noImages = { stdout: '[]\n' }
const listing = (...images: Array<{ id: string; repoTags: string[] }>) => ({ stdout: `${JSON.stringify(images.map((image) => ({ ...image, repoDigests: [], size: '1000' })))}\n` })
const pause = { id: `sha256:${'cd'.repeat(32)}`, repoTags: ['registry.k8s.io/pause:3.10'] }
const withImage = listing(pause, { id, repoTags: [`docker.io/library/${reference}`] })
/** `minikube profile list -o json` as recorded (docker driver, docker runtime, one node), with the config changed as given. */
function profileList(change: (config: Record<string, unknown> & { KubernetesConfig: Record<string, unknown>; Nodes: unknown[] }) => void = () => {}) {
  const recorded = JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/minikube/v1.37.0/profile-list-json-node-gone.json'), 'utf8')) as { stdout: string }
  const list = JSON.parse(recorded.stdout) as { valid: Array<{ Config: Parameters<typeof change>[0] }> }
  change(list.valid[0].Config)
  return { stdout: JSON.stringify(list) }
}
/** Answers image ls with "absent" first and "present" afterwards, and profile list with `profiles`. */
function loadable(profiles = profileList(), answer: (line: string) => object | undefined = () => undefined) {
  let listed = 0
  return (command: { line: string }) => answer(command.line) ?? withId(command.line) ?? (command.line.endsWith('image ls --format json') ? (listed++ === 0 ? noImages : withImage) : command.line.endsWith('profile list -o json') ? profiles : {})
}
const save = `docker save ${reference}`
const imageLs = `minikube -p ${profile} image ls --format json`
const inspect = `docker image inspect --format {{.Id}} ${reference}`
const withId = (line: string) => (line === inspect ? { stdout: `${id}\n` } : undefined)
/** How the pods name an image loaded into the node: its ID, the name:tag in an annotation. */
const byId = { image: id, name: reference }

beforeEach(() => fake.reset())

describe('publishToKubernetes on minikube', () => {
  it('skips when the node already holds the image by this machine\'s ID (the classic image store: its config digest)', async () => {
    fake.reset((command) => withId(command.line) ?? withImage)
    expect(await pushImage(reference, 'minikube', { profile, push: false })).toEqual({ skipped: `image ${reference} already in minikube ${profile}; deployed by its ID ${id}`, pod: byId })
    expect(fake.lines()).toEqual([inspect, imageLs])
  })

  it('skips with the docker runtime too, whose IDs minikube lists without sha256:', async () => {
    fake.reset((command) => withId(command.line) ?? listing({ id: id.slice('sha256:'.length), repoTags: [reference] }))
    expect(await pushImage(reference, 'minikube', { profile, push: false })).toEqual({ skipped: `image ${reference} already in minikube ${profile}; deployed by its ID ${id}`, pod: byId })
  })

  it('loads it when the node holds another image under its name:tag (planted there), and runs the ID the node lists it under afterwards', async () => {
    let listed = 0
    const planted = listing({ ...pause, repoTags: [...pause.repoTags, `docker.io/library/${reference}`] })
    fake.reset((command) => withId(command.line) ?? (command.line === imageLs ? (listed++ === 0 ? planted : withImage) : command.line.endsWith('profile list -o json') ? profileList((config) => (config.KubernetesConfig.ContainerRuntime = 'containerd')) : {}))
    expect(await pushImage(reference, 'minikube', { profile, push: false })).toEqual({ done: `loaded ${reference} into minikube ${profile} (docker save piped into the node's containerd); deployed by its ID ${id}`, pod: byId })
    expect(fake.lines()).toEqual([inspect, imageLs, 'minikube profile list -o json', `${save} | docker exec -i ${profile} ctr -n=k8s.io images import -`, imageLs])
  })

  it('streams docker save into the node\'s containerd when the node is a container on this engine, and checks that minikube now lists it', async () => {
    fake.reset(loadable(profileList((config) => (config.KubernetesConfig.ContainerRuntime = 'containerd'))))
    expect(await pushImage(reference, 'minikube', { profile, push: false })).toEqual({ done: `loaded ${reference} into minikube ${profile} (docker save piped into the node's containerd); deployed by its ID ${id}`, pod: byId })
    expect(fake.lines()).toEqual([inspect, imageLs, 'minikube profile list -o json', `${save} | docker exec -i ${profile} ctr -n=k8s.io images import -`, imageLs])
  })

  it('streams into the node\'s docker with the docker runtime (minikube\'s default)', async () => {
    fake.reset(loadable())
    expect(await pushImage(reference, 'minikube', { profile, push: false })).toEqual({ done: `loaded ${reference} into minikube ${profile} (docker save piped into the node's docker); deployed by its ID ${id}`, pod: byId })
    expect(fake.lines()).toContain(`${save} | docker exec -i ${profile} docker load`)
  })

  it.each([
    ['a VM driver', (config: Record<string, unknown>) => (config.Driver = 'kvm2')],
    ['several nodes', (config: { Nodes: unknown[] }) => config.Nodes.push({ Name: 'm02' })],
    ['CRI-O', (config: { KubernetesConfig: Record<string, unknown> }) => (config.KubernetesConfig.ContainerRuntime = 'crio')],
  ])('leaves it to minikube image load with %s', async (_, change) => {
    fake.reset(loadable(profileList(change as Parameters<typeof profileList>[0])))
    expect(await pushImage(reference, 'minikube', { profile, push: false })).toEqual({ done: `loaded ${reference} into minikube ${profile} (minikube image load); deployed by its ID ${id}`, pod: byId })
    expect(fake.lines()).toEqual([inspect, imageLs, 'minikube profile list -o json', `minikube -p ${profile} image load ${reference}`, imageLs])
  })

  it('falls back to minikube image load when streaming fails, and says why', async () => {
    fake.reset(loadable(profileList(), (line) => (line.startsWith(save) ? { exitCode: 1, stderr: 'Error response from daemon: container ssk8s is not running' } : undefined)))
    const outcome = await pushImage(reference, 'minikube', { profile, push: false })
    expect(outcome).toEqual({ done: `loaded ${reference} into minikube ${profile} (minikube image load; streaming into the node failed: \`docker exec -i ${profile} docker load\` failed: Error response from daemon: container ssk8s is not running); deployed by its ID ${id}`, pod: byId })
    expect(fake.lines().slice(-2)).toEqual([`minikube -p ${profile} image load ${reference}`, imageLs])
  })

  it('fails naming the profile and the image when image load exited 0 but nothing was loaded', async () => {
    fake.reset((command) => withId(command.line) ?? (command.line === imageLs ? noImages : command.line.endsWith('profile list -o json') ? profileList((config) => (config.Driver = 'kvm2')) : { exitCode: 0 }))
    const error = (await pushImage(reference, 'minikube', { profile, push: false }).catch((e: unknown) => e)) as StepError
    expect(error).toBeInstanceOf(StepError)
    expect(error.message).toBe(`minikube profile ${profile} does not list image ${reference} after \`minikube image load\` (which exited 0)`)
    expect(error.details).toContain(`minikube -p ${profile} image load ${reference} --alsologtostderr`)
  })

  it('fails naming the IDs when the nodes list the image under several after the load (a node kept another build)', async () => {
    let listed = 0
    const older = `sha256:${'11'.repeat(32)}`
    const twoNodes = profileList((config) => config.Nodes.push(config.Nodes[0]))
    fake.reset((command) => withId(command.line) ?? (command.line === imageLs ? (listed++ === 0 ? noImages : listing({ id: older, repoTags: [`docker.io/library/${reference}`] }, { id, repoTags: [`docker.io/library/${reference}`] })) : command.line.endsWith('profile list -o json') ? twoNodes : {}))
    const error = (await pushImage(reference, 'minikube', { profile, push: false }).catch((e: unknown) => e)) as StepError
    expect(error).toBeInstanceOf(StepError)
    expect(error.message).toBe(`minikube profile ${profile} lists image ${reference} under 2 IDs (${older}, ${id}) after \`minikube image load\` (which exited 0)`)
  })

  it('pushes to --registry instead, and leaves minikube alone', async () => {
    fake.reset(() => ({ stdout: recordedPush('first') }))
    await pushImage(`127.0.0.1:1/${reference}`, 'minikube', { profile, push: true })
    expect(fake.lines()).toEqual([`docker push 127.0.0.1:1/${reference}`])
  })
})

// Docker Desktop's default and Docker Engine 29's: `.Id` is the image's manifest or index digest
// (moby daemon/containerd/image_inspect.go), which no node lists; the node knows the image by its
// config digest after `docker save` | import, `docker load` or `minikube image load`.
describe('publishToKubernetes on minikube from an engine on the containerd image store', () => {
  const indexDigest = `sha256:${'ee'.repeat(32)}`
  const hostInspect = (line: string) => (line === inspect ? { stdout: `${indexDigest}\n` } : undefined)
  /** The node's image list before the load, then with ours under its config digest (`id`) as `after`. */
  function node(before: ReturnType<typeof listing>, after = withImage, runtime = 'containerd') {
    let listed = 0
    return (command: { line: string }) =>
      hostInspect(command.line) ?? (command.line === imageLs ? (listed++ === 0 ? before : after) : command.line.endsWith('profile list -o json') ? profileList((config) => (config.KubernetesConfig.ContainerRuntime = runtime)) : {})
  }

  it('loads the image (this machine\'s ID is not in the node) and the pods run the ID the node lists its name:tag under', async () => {
    fake.reset(node(listing(pause)))
    expect(await pushImage(reference, 'minikube', { profile, push: false })).toEqual({ done: `loaded ${reference} into minikube ${profile} (docker save piped into the node's containerd); deployed by its ID ${id}`, pod: byId })
    expect(fake.lines()).toEqual([inspect, imageLs, 'minikube profile list -o json', `${save} | docker exec -i ${profile} ctr -n=k8s.io images import -`, imageLs])
  })

  it('loads it again when the node lists its name:tag already (another build may hold it), and runs what the node holds it under afterwards', async () => {
    const older = `sha256:${'11'.repeat(32)}`
    fake.reset(node(listing(pause, { id: older, repoTags: [`docker.io/library/${reference}`] })))
    expect(await pushImage(reference, 'minikube', { profile, push: false })).toEqual({ done: `loaded ${reference} into minikube ${profile} (docker save piped into the node's containerd); deployed by its ID ${id}`, pod: byId })
    expect(fake.lines()).toContain(`${save} | docker exec -i ${profile} ctr -n=k8s.io images import -`)
  })

  it('adds sha256: to the ID of a node on the docker runtime, which minikube lists without it', async () => {
    fake.reset(node(noImages, listing({ id: id.slice('sha256:'.length), repoTags: [`docker.io/library/${reference}`] }), 'docker'))
    expect(await pushImage(reference, 'minikube', { profile, push: false })).toEqual({ done: `loaded ${reference} into minikube ${profile} (docker save piped into the node's docker); deployed by its ID ${id}`, pod: byId })
  })

  it('fails when the node does not list its name:tag after the load', async () => {
    fake.reset(node(noImages, listing(pause)))
    const error = (await pushImage(reference, 'minikube', { profile, push: false }).catch((e: unknown) => e)) as StepError
    expect(error).toBeInstanceOf(StepError)
    expect(error.message).toBe(`minikube profile ${profile} does not list image ${reference} after docker save piped into the node's containerd (which succeeded)`)
  })
})

/** `docker push` as recorded (Docker 20.10, no terminal): the first push, and the same push again. */
const recordedPush = (name: 'first' | 'again') => readFileSync(join(repoRoot, `test/fixtures/docker/v20.10/push-${name}.txt`), 'utf8')
const digest = 'sha256:cbe938365b968c5c90e77a8be8b663445876afe55af674dfdefe0ee5b7a7a150'

describe('publishToKubernetes elsewhere without --registry', () => {
  it('touches nothing and names the image the cluster must already see, with the kind command that loads it', async () => {
    expect(await pushImage(reference, 'kubernetes', { profile, push: false })).toEqual({
      skipped: `no --registry: the cluster must already see this local image (Docker Desktop does; kind: kind load docker-image ${reference})`,
      pod: { image: reference },
    })
    expect(fake.lines()).toEqual([])
  })
})

describe('publishToKubernetes with --registry', () => {
  /** A registry that answers yes to every question: it "has" every tag. */
  let registry: Server
  let host: string
  beforeAll(async () => {
    registry = createServer((_request, response) => response.writeHead(200, { 'Docker-Content-Digest': `sha256:${'0'.repeat(64)}` }).end())
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve))
    host = `127.0.0.1:${(registry.address() as AddressInfo).port}`
  })
  afterAll(() => registry.close())

  it('pushes although the registry says it has the tag (it may hold anyone\'s image), and the pods run the digest this push reported', async () => {
    fake.reset((command) => (command.line.startsWith('docker push') ? { stdout: recordedPush('again') } : undefined))
    const outcome = await pushImage(`${host}/${reference}`, 'kubernetes', { profile, push: true })
    expect(fake.lines()).toEqual([`docker push ${host}/${reference}`])
    expect(outcome).toEqual({ done: `pushed (the registry had every layer) ${host}/${reference}, deployed as ${digest}`, pod: { image: `${host}/${reference}@${digest}` } })
  })

  it('says it pushed when a layer was sent', async () => {
    fake.reset(() => ({ stdout: recordedPush('first') }))
    expect(await pushImage(`${host}/${reference}`, 'kubernetes', { profile, push: true })).toEqual({ done: `pushed ${host}/${reference}, deployed as ${digest}`, pod: { image: `${host}/${reference}@${digest}` } })
  })

  it('refuses to deploy by tag when docker push reported no digest', async () => {
    fake.reset(() => ({ stdout: 'The push refers to repository [x]\nsomething else\n' }))
    const error = (await pushImage(`${host}/${reference}`, 'kubernetes', { profile, push: true }).catch((e: unknown) => e)) as StepError
    expect(error).toBeInstanceOf(StepError)
    expect(error.message).toBe(`docker push ${host}/${reference} reported no digest: the image cannot be deployed by digest`)
    expect(error.details).toContain('something else')
  })
})
