import { imageTag } from './python-version.ts'
import { storageOf, type ClusterStorage } from './storage.ts'
import type { Target } from './target.ts'

/** The running master's image and storage, which every driver, Connect server and History Server gets. */
export async function clusterDrivers(target: Target): Promise<{ image: string; storage: ClusterStorage }> {
  const master = await target.runtime.runningMaster()
  return { image: master.image, storage: storageOf(master.annotations) }
}

/** The Spark release in an image this tool built (tag <spark version>[-py<python>]-<hash>), or undefined for any other tag. */
export function sparkVersionOf(image: string): string | undefined {
  return /^(\d+\.\d+\.\d+)-(?:py\d+\.\d+-)?[0-9a-f]+$/.exec(imageTag(image))?.[1]
}
