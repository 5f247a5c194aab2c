import { createServer, type Server, type Socket } from 'node:net'
import { StepError } from './errors.ts'

/**
 * Clients of http://localhost:<port> and sc://localhost:<port> may try either loopback address
 * first (Python's gRPC and browsers resolve localhost to ::1 too). A forward that held only
 * 127.0.0.1 would let another local user's process on [::1] at the same port receive the
 * connection, and with it the Spark Connect token. So both are held, or neither.
 */
const addresses = ['127.0.0.1', '::1'] as const

/** Neither this machine nor anyone on it can use the address: no IPv6 loopback. */
const absent = (error: unknown) => ['EADDRNOTAVAIL', 'EAFNOSUPPORT'].includes((error as { code?: string }).code ?? '')

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port, host, ipv6Only: true }, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

const close = (server: Server) => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()))

/** An EADDRINUSE error that names the address, as forwardWithFallback expects. */
function inUse(host: string, port: number): Error {
  return Object.assign(new Error(`${host.includes(':') ? `[${host}]` : host}:${port} is in use by another process`), { code: 'EADDRINUSE' })
}

export interface LoopbackListener {
  port: number
  close(): Promise<void>
}

/**
 * Serves `onConnection` on 127.0.0.1 and [::1] at one port (0: a port free on both, tried a few
 * times). Throws an EADDRINUSE error when another process holds either address at a given port.
 */
export async function listenOnLoopback(onConnection: (socket: Socket) => void, port: number): Promise<LoopbackListener> {
  for (let attempt = 0; ; attempt++) {
    const servers = addresses.map(() => createServer(onConnection))
    try {
      await listen(servers[0], port, addresses[0])
      const bound = (servers[0].address() as { port: number }).port
      await listen(servers[1], bound, addresses[1]).catch((error: unknown) => {
        if (absent(error)) return servers.pop()
        throw (error as { code?: string }).code === 'EADDRINUSE' ? inUse(addresses[1], bound) : error
      })
      // Past listen, a listener's errors (EMFILE on accept, say) are reported, not fatal to a long-running forward.
      for (const server of servers) server.on('error', (error) => console.error(`localhost:${bound}: ${error.message}`))
      return { port: bound, close: async () => void (await Promise.all(servers.map(close))) }
    } catch (error) {
      await Promise.all(servers.map(close))
      if (port !== 0 || attempt >= 4 || (error as { code?: string }).code !== 'EADDRINUSE') throw error
    }
  }
}

/**
 * For a port another program (Docker's proxy) holds on 127.0.0.1 for us: refuses when some other
 * process holds [::1] at it, where a client of localhost may connect instead. Bound for a moment
 * to find out, then let go.
 */
export function requireFreeIpv6Loopback(port: number, what: string): Promise<void> {
  return requireFree([addresses[1]], port, `a client of localhost:${port} may connect instead of ${what}: refusing to hand out the address`)
}

/** Before Docker is asked to publish `port` on 127.0.0.1: both loopback addresses free, or the one line that says who has it. */
export function requireFreeLoopback(port: number, what: string): Promise<void> {
  return requireFree(addresses, port, `Docker is to publish ${what}`)
}

async function requireFree(hosts: readonly string[], port: number, consequence: string): Promise<void> {
  for (const host of hosts) {
    const probe = createServer()
    try {
      await listen(probe, port, host)
    } catch (error) {
      if (absent(error)) continue
      if ((error as { code?: string }).code === 'EADDRINUSE') {
        const finder = process.platform === 'darwin' ? `lsof -nP -iTCP:${port} -sTCP:LISTEN` : process.platform === 'win32' ? `netstat -ano | findstr :${port}` : `ss -ltnp 'sport = :${port}'`
        throw new StepError(`another process listens on ${host.includes(':') ? `[${host}]` : host}:${port}, where ${consequence}`, `  - stop that process (\`${finder}\` shows it), then run this again`)
      }
      throw error
    } finally {
      await close(probe)
    }
  }
}
