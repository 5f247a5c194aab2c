/**
 * fetch with a deadline whose timer keeps the process alive. AbortSignal.timeout's timer does not:
 * when a fetch is left waiting on it (a port that accepts and then drops the connection, as a
 * published port does while its container starts), node finds nothing left to run and exits 0 mid-command.
 */
export async function fetchWithin<T = Response>(url: string | URL, timeoutMs: number, init: RequestInit = {}, read: (response: Response) => Promise<T> = async (r) => r as T): Promise<T> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new Error(`${url} did not answer within ${timeoutMs / 1000} s`)), timeoutMs)
  try {
    // `read` runs inside the deadline: a body that stalls half-way is cut off too.
    return await read(await fetch(url, { ...init, signal: controller.signal }))
  } finally {
    clearTimeout(timer)
  }
}
