import { imageTag } from './python-version.ts'
import type { Target } from './target.ts'

/** The image the running master uses: every driver the tool starts must run the same Spark. */
export function clusterImage(target: Target): Promise<string> {
  return target.runtime.clusterImage()
}

/** The Spark release in an image this tool built (tag <spark version>[-py<python>]-<hash>), or undefined for any other tag. */
export function sparkVersionOf(image: string): string | undefined {
  return /^(\d+\.\d+\.\d+)-(?:py\d+\.\d+-)?[0-9a-f]+$/.exec(imageTag(image))?.[1]
}
