import type https from 'node:https'
import {
  createConfiguration,
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  ResponseContext,
  ServerConfiguration,
  wrapHttpLibrary,
  type ApiConstructor,
  type ApiType,
  type RequestContext,
} from '@kubernetes/client-node'
import { StepError } from '../errors.ts'

/**
 * How long one API call may go unanswered: the API server's own limit for a request (its
 * --request-timeout), past which the answer will not come. As long as the Docker engine's (engine.ts).
 */
export const requestDeadlineMs = 60_000

/**
 * A KubeConfig whose every API call has a deadline: client-node's own has none, so an API server
 * that accepts the connection and never answers would hold a command forever. The clients it makes
 * answer within the deadline or throw one line naming the server; watches, log streams, attach and
 * port-forward, which run long on purpose, get it for their answer to begin (node-fetch's `timeout`
 * stops at the headers of a streamed body; ws's `handshakeTimeout` at the upgrade).
 */
export class DeadlineKubeConfig extends KubeConfig {
  constructor(readonly deadlineMs = requestDeadlineMs) {
    super()
  }

  override makeApiClient<T extends ApiType>(apiClientType: ApiConstructor<T>): T {
    const server = this.getCurrentCluster()?.server
    if (!server) throw new Error(`kube context ${this.currentContext} names no cluster server`)
    const inner = new IsomorphicFetchHttpLibrary()
    const httpApi = wrapHttpLibrary({ send: (request) => this.sendWithin(inner, server, request) })
    return new apiClientType(createConfiguration({ baseServer: new ServerConfiguration(server, {}), authMethods: { default: this }, httpApi }))
  }

  override async applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
    await super.applyToHTTPSOptions(opts)
    // For the WebSockets of attach and port-forward (ws reads it): their upgrade is answered in time or fails.
    ;(opts as { handshakeTimeout?: number }).handshakeTimeout ??= this.deadlineMs
  }

  override async applyToFetchOptions(opts: https.RequestOptions): Promise<Awaited<ReturnType<KubeConfig['applyToFetchOptions']>>> {
    return { ...(await super.applyToFetchOptions(opts)), timeout: this.deadlineMs }
  }

  private async sendWithin(inner: IsomorphicFetchHttpLibrary, server: string, request: RequestContext): Promise<ResponseContext> {
    const controller = new AbortController()
    // A ref'd timer (not AbortSignal.timeout): it keeps node alive until the call is answered or cut.
    const timer = setTimeout(() => controller.abort(), this.deadlineMs)
    request.setSignal(controller.signal)
    try {
      const response = await inner.send(request).toPromise()
      // Read inside the deadline: a body that stalls half-way is cut off too.
      const body = await response.body.binary()
      return new ResponseContext(response.httpStatusCode, response.headers, { text: async () => body.toString('utf8'), binary: async () => body })
    } catch (error) {
      if (!controller.signal.aborted) throw error
      const { pathname } = new URL(request.getUrl())
      throw new StepError(
        `the Kubernetes API server at ${server} did not answer ${request.getHttpMethod()} ${pathname} within ${this.deadlineMs / 1000} s; hint: check that the cluster is up and reachable from here (\`kubectl --context ${this.currentContext} get --raw /readyz\`)`,
      )
    } finally {
      clearTimeout(timer)
    }
  }
}
