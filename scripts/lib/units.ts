/** Spark's memory strings (512m, 2g; binary units, as SPARK_WORKER_MEMORY reads them). */
export const sparkMemoryPattern = /^([1-9]\d*)([kmgt])$/i

const sparkUnitMiB: Record<string, number> = { k: 1 / 1024, m: 1, g: 1024, t: 1024 * 1024 }

export function sparkMemoryToMebibytes(value: string): number {
  const match = sparkMemoryPattern.exec(value.trim())
  if (!match) throw new Error(`not a Spark memory size: ${value}`)
  return Number(match[1]) * sparkUnitMiB[match[2].toLowerCase()]
}

const kubeUnitBytes: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
}

/** Kubernetes memory quantities (2Gi, 1536Mi, 1G, 1073741824). */
export function kubeQuantityToBytes(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(value.trim())
  if (!match) throw new Error(`not a Kubernetes memory quantity: ${value}`)
  return Number(match[1]) * kubeUnitBytes[match[2] ?? '']
}

export function kubeQuantityToMebibytes(value: string): number {
  return kubeQuantityToBytes(value) / 1024 ** 2
}

export function formatMebibytes(mebibytes: number): string {
  return mebibytes % 1024 === 0 ? `${mebibytes / 1024}Gi` : `${Math.ceil(mebibytes)}Mi`
}

/** Kubernetes CPU quantities (1, 0.5, 250m) as a number of cores. */
export function kubeCpuToCores(value: string | number): number {
  const text = String(value).trim()
  return text.endsWith('m') ? Number(text.slice(0, -1)) / 1000 : Number(text)
}
