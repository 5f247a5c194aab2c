/**
 * Which pip requirement gives a laptop the Spark Connect client of a cluster's Spark version: the
 * thin `pyspark-client` (a few MB, no Java) where PyPI publishes that version, else the full
 * `pyspark` with its `connect` extra, which every release has (PyPI publishes no thin client for
 * some releases, e.g. none for 4.3.0 when this was written; Spark 3.5 never had one).
 */
import { fetchWithin } from './http.ts'

export async function clientRequirement(sparkVersion: string | undefined, thinVersions: () => Promise<string[] | undefined> = publishedThinClients): Promise<string> {
  if (!sparkVersion) return 'pyspark-client'
  if (Number(sparkVersion.split('.')[0]) < 4) return `pyspark[connect]==${sparkVersion}`
  const published = await thinVersions()
  return published?.includes(sparkVersion) ? `pyspark-client==${sparkVersion}` : `pyspark[connect]==${sparkVersion}`
}

/** The versions of pyspark-client on PyPI (its JSON simple index); undefined when PyPI does not answer in 3 s. */
async function publishedThinClients(): Promise<string[] | undefined> {
  try {
    return await fetchWithin('https://pypi.org/simple/pyspark-client/', 3_000, { headers: { Accept: 'application/vnd.pypi.simple.v1+json' } }, async (response) =>
      response.ok ? ((await response.json()) as { versions?: string[] }).versions : undefined,
    )
  } catch {
    return undefined
  }
}
