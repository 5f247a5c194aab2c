// JupyterLab's image: the cluster's own image (so the kernel has the executors' Python, packages and
// jars) plus JupyterLab, built from docker/notebook/Dockerfile only when first asked for.
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { buildFailure, dockerBuild, filesUnder, hashFiles } from '../build-image.ts'
import { sparkVersionOf } from './cluster-image.ts'
import { imageExists } from './docker/containers.ts'
import { StepError } from './errors.ts'
import type { StepOutcome } from './outcome.ts'
import { dockerDir, notebookSubdir } from './paths.ts'


/** The cluster image as built locally (name:tag), without the digest or ID the pods run it by. */
export function localClusterImage(image: string): string {
  return image.split('@')[0]
}

/**
 * <cluster image name>:<cluster tag>-notebook-<12 hex of docker/notebook/, its lock included>: one per
 * cluster image, and a new one when the notebook's files change.
 */
export function notebookImageReference(clusterImage: string, dir: string = dockerDir): string {
  const hash = hashFiles(createHash('sha256'), dir, filesUnder(join(dir, notebookSubdir)))
  return `${localClusterImage(clusterImage)}-notebook-${hash.digest('hex').slice(0, 12)}`
}

/** Why no notebook image can be built on the cluster's (undefined: it can): it builds on the tool's own images only. */
export function notebookImageProblem(clusterImage: string): StepError | undefined {
  if (sparkVersionOf(clusterImage)) return undefined
  return new StepError(
    `this cluster runs ${localClusterImage(clusterImage)}, an image this tool did not build: JupyterLab is built on the tool's own image`,
    '  - npm run cluster:up builds one and rolls the cluster onto it, then npm run notebook',
  )
}

/** Builds JupyterLab's image on the cluster's, unless it is there already. */
export async function buildNotebookImage(reference: string, clusterImage: string, onLine?: (line: string) => void): Promise<StepOutcome> {
  if (await imageExists(reference)) return { skipped: `image ${reference} already present` }
  const base = localClusterImage(clusterImage)
  if (!(await imageExists(base))) {
    throw new StepError(`the cluster's image ${base} is not on this Docker engine, and JupyterLab's image is built on it`, '  - npm run cluster:up (with the flags the cluster was made with) builds it again, then npm run notebook')
  }
  const build = await dockerBuild(reference, ['--file', join(notebookSubdir, 'Dockerfile'), '--build-arg', `CLUSTER_IMAGE=${base}`], onLine)
  if (build.exitCode !== 0) throw buildFailure(reference, build)
  return { done: `image ${reference} built on ${base}` }
}
