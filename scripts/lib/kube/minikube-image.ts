// The image into a minikube profile's node, without Docker Hub. `minikube image load` (v1.37.0,
// pkg/minikube/machine/cache_images.go) saves the image to a tar in its cache, copies the tar into
// the node and imports it there: three passes over ~1 GB. Where the node is a container on the
// Docker engine that built the image (the docker driver, one node), `docker save` is piped straight
// into the node's own runtime instead, the same import minikube runs (cruntime LoadImage) reading
// stdin: one pass, no tar on either disk. Elsewhere (VM drivers, several nodes, CRI-O) minikube's
// own load is used. Either way the node must then list the image by the ID its pods run it by.
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

/**
 * Whether the node holds the image with this ID, whatever its names there (which anyone may have
 * tagged onto another image). `image ls --format json` (v1.37.0) gives containerd's IDs whole and
 * the docker runtime's without `sha256:`.
 */
export async function minikubeHasImage(profile: string, id: string): Promise<boolean> {
  const listed = await run`minikube -p ${profile} image ls --format json`
  const images = JSON.parse(listed.stdout.trim() || '[]') as Array<{ id: string }>
  const bare = (image: string) => image.replace(/^sha256:/, '')
  return images.some((image) => bare(image.id) === bare(id))
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

/** The image into the profile's node unless the node holds its ID already; `id` is this machine's for `reference`. */
export async function loadIntoMinikube(profileName: string, reference: string, id: string): Promise<StepOutcome> {
  if (await minikubeHasImage(profileName, id)) return { skipped: `image ${reference} already in minikube ${profileName}` }
  const profile = await readProfile(profileName)
  const stream = profile && streamInto(profile)
  const failure = stream ? await streamed(stream, reference) : undefined
  const how = stream && !failure ? `docker save piped into the node's ${stream.runtime}` : 'minikube image load'
  if (!stream || failure) await run`minikube -p ${profileName} image load ${reference}`
  // `image load` can exit 0 although a node failed to load it (it only logs that): ask the node.
  if (!(await minikubeHasImage(profileName, id))) {
    throw new StepError(
      `minikube profile ${profileName} does not list image ${reference} after ${how === 'minikube image load' ? '`minikube image load` (which exited 0)' : `${how} (which succeeded)`}`,
      `  - see why: \`minikube -p ${profileName} image load ${reference} --alsologtostderr\`; a full node disk is a common cause (\`minikube -p ${profileName} ssh -- df -h\`)\n  - the pods run it by this machine's image ID ${id}, which \`minikube -p ${profileName} image ls --format json\` must list${failure ? `\n  - streaming into the node failed first: ${failure}` : ''}`,
    )
  }
  return { done: `loaded ${reference} into minikube ${profileName} (${how}${failure ? `; streaming into the node failed: ${failure}` : ''})` }
}
