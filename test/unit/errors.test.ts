// What users read when the Kubernetes API refuses something: the server's own message in one line.
import { describe, expect, it } from 'vitest'
import { apiErrorMessage, errorMessage } from '../../scripts/lib/errors.ts'

/** An error shaped as client-node 1.4's ApiException: the dumped message, the status code, the Status body as text. */
function apiException(code: number, status?: Record<string, unknown>) {
  const body = status ? JSON.stringify(status) : undefined
  const message = `HTTP-Code: ${code}\nMessage: Unknown API Status Code!\nBody: ${JSON.stringify(body)}\nHeaders: {"audit-id":"1f0c","content-type":"application/json"}`
  return Object.assign(new Error(message), { code, body, headers: {} })
}

describe('errorMessage of a Kubernetes API error', () => {
  it('is the server message and reason in one line, with a hint, and none of the HTTP dump', () => {
    const error = apiException(403, {
      kind: 'Status',
      status: 'Failure',
      message: 'deployments.apps is forbidden: User "system:serviceaccount:dev:me" cannot create resource "deployments" in API group "apps" in the namespace "prod"',
      reason: 'Forbidden',
      code: 403,
    })
    const line = errorMessage(error)
    expect(line).toBe(
      'deployments.apps is forbidden: User "system:serviceaccount:dev:me" cannot create resource "deployments" in API group "apps" in the namespace "prod" (Forbidden, HTTP 403); hint: the tool needs the built-in admin (or edit) role in its namespace: `kubectl auth can-i --list -n <namespace>` shows yours',
    )
    expect(line).not.toMatch(/\n|HTTP-Code|Headers|audit-id/)
  })

  it('names a taken NodePort as the server says it', () => {
    const error = apiException(422, {
      kind: 'Status',
      message: 'Service "spark-master-service" is invalid: spec.ports[0].nodePort: Invalid value: 30000: provided port is already allocated',
      reason: 'Invalid',
      code: 422,
    })
    expect(errorMessage(error)).toBe(
      'Service "spark-master-service" is invalid: spec.ports[0].nodePort: Invalid value: 30000: provided port is already allocated (Invalid, HTTP 422); hint: the server refused the object as declared',
    )
  })

  it('a 401 without a body still says what happened and what to do', () => {
    expect(errorMessage(apiException(401))).toBe('Unauthorized (HTTP 401); hint: your credentials were rejected: log in again or refresh the kubeconfig')
  })

  it('a body that is not JSON (a proxy in the way) is cut to its first line', () => {
    expect(apiErrorMessage({ code: 502, body: '<html>Bad Gateway</html>\n<body>…' })).toBe('<html>Bad Gateway</html> (HTTP 502)')
  })

  it('other errors keep their first line, and a network cause is named', () => {
    expect(errorMessage(new Error('first\nsecond'))).toBe('first')
    const fetchFailure = Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 10.0.0.1:6443' } })
    expect(errorMessage(fetchFailure)).toBe('fetch failed: connect ECONNREFUSED 10.0.0.1:6443')
    expect(errorMessage('plain')).toBe('plain')
    // What the WebSocket of a refused port-forward rejects with: an event that carries the error.
    expect(errorMessage({ type: 'error', error: new Error('Unexpected server response: 403'), message: 'Unexpected server response: 403' })).toBe('Unexpected server response: 403')
    expect(errorMessage({ message: 'socket hang up' })).toBe('socket hang up')
  })
})
