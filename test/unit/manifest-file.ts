// A manifest file's objects, for the tests that read one file of manifests/ whole.
import { expect } from 'vitest'
import type { KubernetesObject } from '@kubernetes/client-node'
import { parseManifestFile } from '../../scripts/lib/manifests.ts'

/** The file's objects, and the one object of a kind (asserting there is exactly one). */
export function manifestFile(path: string): { objects: KubernetesObject[]; only: <T>(kind: string) => T } {
  const objects = parseManifestFile(path)
  const only = <T>(kind: string): T => {
    const found = objects.filter((object) => object.kind === kind)
    expect(found, kind).toHaveLength(1)
    return found[0] as T
  }
  return { objects, only }
}
