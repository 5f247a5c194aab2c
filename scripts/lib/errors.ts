/** Bad input: one line naming the flag and the accepted form; exit 2, nothing touched. */
export class UsageError extends Error {
  readonly exitCode = 2
}

/** The work itself failed; `details` (pod status, events, logs) is printed after the message. */
export class StepError extends Error {
  readonly exitCode = 1
  constructor(
    message: string,
    readonly details?: string,
  ) {
    super(message)
  }
}

/** The cluster cannot be talked to at all (a stopped minikube, say): every command says the same one line. */
export class ClusterUnavailable extends StepError {}

/** What a failed Kubernetes API call carries (client-node's ApiException): the status code and the Status body as text. */
interface ApiFailure {
  code: number
  body?: unknown
}

function isApiFailure(error: unknown): error is ApiFailure & Error {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'number' && /^HTTP-Code: /.test(error.message)
}

const apiHints: Record<number, string> = {
  401: 'your credentials were rejected: log in again or refresh the kubeconfig',
  403: 'the tool needs the built-in admin (or edit) role in its namespace: `kubectl auth can-i --list -n <namespace>` shows yours',
  404: 'run `npm run cluster:up` first, or check --namespace and --context',
  409: 'someone changed it at the same time: run the command again',
  422: 'the server refused the object as declared',
}

/**
 * One line in the user's words: the API server's own message (and reason) instead of client-node's
 * "HTTP-Code … Body … Headers" dump, plus a hint for the usual status codes.
 */
export function apiErrorMessage(error: ApiFailure): string {
  let status: { message?: string; reason?: string } = {}
  try {
    status = typeof error.body === 'string' ? JSON.parse(error.body) : ((error.body as typeof status) ?? {})
  } catch {
    status = { message: String(error.body).split('\n')[0].slice(0, 200) }
  }
  const what = status.message || (error.code === 401 ? 'Unauthorized' : `the API server answered HTTP ${error.code}`)
  const reason = status.reason ? `${status.reason}, ` : ''
  const hint = apiHints[error.code]
  return `${what} (${reason}HTTP ${error.code})${hint ? `; hint: ${hint}` : ''}`
}

export function errorMessage(error: unknown): string {
  if (isApiFailure(error)) return apiErrorMessage(error)
  if (error instanceof Error) {
    // node-fetch/undici put the interesting part (ECONNREFUSED 10.0.0.1:6443) in a cause or a long first line.
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    const line = error.message.split('\n')[0]
    return cause?.message && !line.includes(cause.message) ? `${line}: ${cause.message}` : line
  }
  // Not an Error, but carrying one (a WebSocket ErrorEvent from a port-forward, say).
  const inner = (error as { error?: unknown; message?: unknown } | undefined) ?? {}
  if (inner.error instanceof Error || typeof inner.message === 'string') return errorMessage(inner.error ?? new Error(String(inner.message)))
  return String(error).split('\n')[0]
}
