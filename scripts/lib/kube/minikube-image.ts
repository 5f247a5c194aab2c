// The image into a minikube profile's node, without Docker Hub. `minikube image load` (v1.37.0,
// pkg/minikube/machine/cache_images.go) saves the image to a tar in its cache, copies the tar into
// the node and imports it there: three passes over ~1 GB. Where the node is a container on the
// Docker engine that built the image (the docker driver, one node), `docker save` is piped straight
// into the node's own runtime instead, the same import minikube runs (cruntime LoadImage) reading
// stdin: one pass, no tar on either disk. Elsewhere (VM drivers, several nodes, CRI-O) minikube's
// own load is used. Either way the node must then list the image; the pods run the ID it lists it
// under.
import { StepError } from '../errors.ts'
import type { StepOutcome } from '../outcome.ts'
import { pipeline, run } from '../proc.ts'
import { readProfile, type MinikubeProfile } from './minikube.ts'

/** The import each runtime's node runs (minikube's LoadImage for that runtime), from stdin. */
const importFromStdin: Record<string, string[]> = {
  containerd: ['ctr', '-n=k8s.io', 'images', 'import', '-'],
  docker: ['docker', 'load'],
}

/** `docker exec -i <node> <import>` when the profile's only node is a container on this engine; else undefined. */
export function streamInto(profile: MinikubeProfile): { node: string; runtime: string; argv: string[] } | undefined {
  const runtime = profile.containerRuntime ?? 'docker'
  const command = importFromStdin[runtime]
  if (profile.driver !== 'docker' || profile.nodes !== 1 || !command) return undefined
  // A one-node profile's node container is named after the profile (config.MachineName).
  return { node: profile.name, runtime, argv: ['docker', 'exec', '-i', profile.name, ...command] }
}

/** An image the profile's nodes hold, as `minikube image ls --format json` lists it (v1.37.0, cruntime.ListImage). */
interface NodeImage {
  id: string
  repoTags: string[]
}

/**
 * The images the profile's nodes hold, each ID as `sha256:<hex>`: minikube lists containerd's
 * (crictl) IDs whole and the docker runtime's without `sha256:` (cruntime/docker.go ListImages).
 */
async function nodeImages(profile: string): Promise<NodeImage[]> {
  const listed = await run`minikube -p ${profile} image ls --format json`
  return (JSON.parse(listed.stdout.trim() || '[]') as NodeImage[]).map((image) => ({ ...image, id: `sha256:${image.id.replace(/^sha256:/, '')}` }))
}

/** The IDs the nodes hold `reference` under (both runtimes list a short name under docker.io/[library/]). */
function idsOf(images: NodeImage[], reference: string): string[] {
  const named = images.filter((image) => image.repoTags.some((tag) => tag.replace(/^docker\.io\/(library\/)?/, '') === reference))
  return [...new Set(named.map((image) => image.id))]
}

/** Streams the image into the node; the reason when that failed (minikube's own load then does it). */
async function streamed(stream: NonNullable<ReturnType<typeof streamInto>>, reference: string): Promise<string | undefined> {
  try {
    await pipeline(['docker', 'save', reference], stream.argv)
    return undefined
  } catch (error) {
    return (error as Error).message
  }
}

/**
 * The image into the profile's node unless the node holds this build already, and the ID the node
 * knows it by, which the pods run. `hostId` is this machine's `.Id` for `reference`: the config
 * digest on the classic image store, which is also the node's ID for the image, so a match skips the
 * load. On the containerd image store (Docker Desktop's default, Docker Engine 29's) `.Id` is the
 * manifest or index digest, and the Engine API has no field with the config digest (moby
 * docker-v29.7.2, daemon/containerd/image_inspect.go: ID is the target's digest, with `?platform=`
 * that platform's manifest; image_history.go the same; api/types/image/manifest.go ManifestSummary
 * has none), so it never matches and the image is loaded each time; the node then says which ID it
 * holds our name:tag under.
 */
export async function loadIntoMinikube(profileName: string, reference: string, hostId: string): Promise<StepOutcome & { id: string }> {
  const held = await nodeImages(profileName)
  const id = `sha256:${hostId.replace(/^sha256:/, '')}`
  if (held.some((image) => image.id === id)) return { skipped: `image ${reference} already in minikube ${profileName}`, id }
  const profile = await readProfile(profileName)
  const stream = profile && streamInto(profile)
  const failure = stream ? await streamed(stream, reference) : undefined
  const how = stream && !failure ? `docker save piped into the node's ${stream.runtime}` : 'minikube image load'
  if (!stream || failure) await run`minikube -p ${profileName} image load ${reference}`
  // `image load` can exit 0 although a node failed to load it (it only logs that): ask the node.
  const loaded = idsOf(await nodeImages(profileName), reference)
  if (loaded.length !== 1) {
    throw new StepError(
      `minikube profile ${profileName} ${loaded.length ? `lists image ${reference} under ${loaded.length} IDs (${loaded.join(', ')})` : `does not list image ${reference}`} after ${how === 'minikube image load' ? '`minikube image load` (which exited 0)' : `${how} (which succeeded)`}`,
      `  - see why: \`minikube -p ${profileName} image load ${reference} --alsologtostderr\`; a full node disk is a common cause (\`minikube -p ${profileName} ssh -- df -h\`)${failure ? `\n  - streaming into the node failed first: ${failure}` : ''}`,
    )
  }
  return { done: `loaded ${reference} into minikube ${profileName} (${how}${failure ? `; streaming into the node failed: ${failure}` : ''})`, id: loaded[0] }
}
