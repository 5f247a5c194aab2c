// How the cluster's pods name its image. Pushed to a registry: `<ref>@sha256:<manifest digest>`,
// which Kubernetes pulls. Loaded straight into a minikube node: the ID the node lists it under
// after the load (`sha256:<config digest>`, whatever image store the host's engine uses), which the node
// resolves locally (imagePullPolicy IfNotPresent), so a later tag of the same name in the node
// cannot reach a new pod. The name:tag, which the tool reads the Spark and Python versions from,
// then rides in an annotation. The rest of the tool sees one string, `name:tag@sha256:<id>` as on
// the Docker runtime; a pod made from that string runs exactly what the pods it came from run
// (the master's, or what this process published), whatever flags the later command was given.
import type { V1Deployment, V1Job, V1Pod, V1PodTemplateSpec } from '@kubernetes/client-node'
import { podTemplate } from '../manifests.ts'

/** The image's name:tag on a pod template whose container runs a bare image ID. */
export const imageAnnotation = 'spark-standalone-k8s/image'

/** What a pod's container names (`image`) and, when that is a bare image ID, the name:tag it was loaded as. */
export interface PodImage {
  image: string
  name?: string
}

/** The image as the rest of the tool reads it: `name:tag@<id>` for an ID, else what the pod names. */
export function imageOfPod(pod: PodImage): string {
  return pod.name ? `${pod.name}@${pod.image}` : pod.image
}

/** What a pod template (or a pod) runs: its container's image and the annotation. */
export function podImageOf(template: V1PodTemplateSpec | V1Pod): PodImage {
  const name = template.metadata?.annotations?.[imageAnnotation]
  return { image: template.spec!.containers[0].image!, ...(name ? { name } : {}) }
}

/**
 * The pod images this process has seen (published, or read off the running master), by the string
 * the rest of the tool knows each by; a string it has not seen (a plain tag) is what the pods name.
 */
export function podImages() {
  const seen = new Map<string, PodImage>()
  return {
    /** Remembers how the pods name this image; the string the rest of the tool knows it by. */
    remember(pod: PodImage): string {
      const image = imageOfPod(pod)
      seen.set(image, pod)
      return image
    },
    /** Whether the pods pull this image from a registry by its digest (not an ID loaded into the node, not a plain tag). */
    pushed(image: string): boolean {
      const pod = seen.get(image)
      return pod !== undefined && !pod.name && pod.image.includes('@sha256:')
    },
    /** A copy of the Deployment, Job or Pod whose pods run its image as the cluster's pods name it. */
    deployable<T extends V1Deployment | V1Job | V1Pod>(object: T): T {
      const copy = structuredClone(object)
      const template = copy.kind === 'Pod' ? (copy as V1Pod) : podTemplate(copy as V1Deployment | V1Job)
      const container = template.spec!.containers[0]
      const pod = seen.get(container.image!) ?? { image: container.image! }
      container.image = pod.image
      if (pod.name) template.metadata = { ...template.metadata, annotations: { ...template.metadata?.annotations, [imageAnnotation]: pod.name } }
      return copy
    },
  }
}

export type PodImages = ReturnType<typeof podImages>
