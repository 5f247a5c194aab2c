import { dockerLayout, listContainers } from './docker.ts'
import { StepError } from './errors.ts'
import { isNotFound } from './kube.ts'
import { imageTag } from './python-version.ts'
import type { Target } from './target.ts'

/** The image the running master uses: every driver the tool starts must run the same Spark. */
export async function clusterImage(target: Target): Promise<string> {
  if (target.platform === 'docker') {
    const masters = await listContainers({ ...dockerLayout(target.manifests).ourLabels, role: 'master' })
    if (masters.length === 0) throw new StepError('no Spark master container here: run `npm run cluster:up` first')
    return masters[0].image
  }
  const kube = await target.kube()
  const name = target.manifests.master.metadata!.name!
  const master = await kube.apps.readNamespacedDeployment({ name, namespace: target.config.namespace }).catch((error: unknown) => {
    throw isNotFound(error) ? new StepError(`no Deployment ${name} in namespace ${target.config.namespace}: run \`npm run cluster:up\` first`) : error
  })
  return master.spec!.template.spec!.containers[0].image!
}

/** The Spark release in an image this tool built (tag <spark version>[-py<python>]-<hash>), or undefined for any other tag. */
export function sparkVersionOf(image: string): string | undefined {
  return /^(\d+\.\d+\.\d+)-(?:py\d+\.\d+-)?[0-9a-f]+$/.exec(imageTag(image))?.[1]
}
