// Local forwards hold both loopback addresses at one port, or none: real sockets on 127.0.0.1 and
// [::1], with other servers standing in for another user's process.
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { StepError } from '../../scripts/lib/errors.ts'
import { listenOnLoopback, requireFreeIpv6Loopback, requireFreeLoopback, type LoopbackListener } from '../../scripts/lib/loopback.ts'
import { forwardWithFallback } from '../../scripts/lib/serve.ts'

const opened: Array<Server | LoopbackListener> = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((held) => ('listening' in held ? new Promise<void>((resolve) => (held.listening ? held.close(() => resolve()) : resolve())) : held.close())))
})

/** Another process's server on `host` (port 0: any free one); resolves with its port. */
async function hold(host: string, port = 0): Promise<number> {
  const server = createServer()
  opened.push(server)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port, ipv6Only: true }, () => resolve())
  })
  return (server.address() as { port: number }).port
}

/** A port that was free on [::1] a moment ago. */
async function freeIpv6Port(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen({ host: '::1', port: 0, ipv6Only: true }, () => resolve()))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** What a client of host:port reads (the server's greeting), or the connect error's code. */
function dial(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port })
    let text = ''
    socket.on('data', (chunk) => (text += chunk.toString()))
    socket.on('end', () => resolve(text))
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
  })
}

const greet = (socket: Socket) => socket.end(`hello from ${socket.localAddress}`)

async function listen(port: number): Promise<LoopbackListener> {
  const listener = await listenOnLoopback(greet, port)
  opened.push(listener)
  return listener
}

describe('listenOnLoopback', () => {
  it('answers on 127.0.0.1 and [::1] at one port, and lets go of both on close', async () => {
    const listener = await listen(0)
    expect(listener.port).toBeGreaterThan(0)
    expect(await dial('127.0.0.1', listener.port)).toBe('hello from 127.0.0.1')
    expect(await dial('::1', listener.port)).toBe('hello from ::1')
    await listener.close()
    expect(await dial('127.0.0.1', listener.port)).toBe('ECONNREFUSED')
    expect(await dial('::1', listener.port)).toBe('ECONNREFUSED')
  })

  it('refuses a port another server holds on [::1], naming it, and releases 127.0.0.1 again', async () => {
    const port = await hold('::1')
    const error = (await listenOnLoopback(greet, port).catch((e: unknown) => e)) as NodeJS.ErrnoException
    expect(error.code).toBe('EADDRINUSE')
    expect(error.message).toBe(`[::1]:${port} is in use by another process`)
    // 127.0.0.1 was bound for a moment, and is free again.
    expect(await hold('127.0.0.1', port)).toBe(port)
  })

  it('refuses a port another server holds on 127.0.0.1, binding nothing on [::1]', async () => {
    const port = await hold('127.0.0.1')
    const error = (await listenOnLoopback(greet, port).catch((e: unknown) => e)) as NodeJS.ErrnoException
    expect(error.code).toBe('EADDRINUSE')
    expect(error.message).toContain(`127.0.0.1:${port}`)
    expect(await hold('::1', port)).toBe(port)
  })
})

describe('forwardWithFallback over listenOnLoopback', () => {
  const forward = async (port: number) => {
    const listener = await listen(port)
    return { url: `http://localhost:${listener.port}`, how: 'test', keepsRunning: true, close: () => listener.close() }
  }

  it('says which address of a requested --port is taken', async () => {
    const port = await hold('::1')
    const error = (await forwardWithFallback(forward, port, 8080).catch((e: unknown) => e)) as StepError
    expect(error).toBeInstanceOf(StepError)
    expect(error.message).toBe(`--port ${port} is in use on this machine ([::1]:${port} is in use by another process): pass another --port, or --port 0 for any free one`)
  })

  it('takes any free port when the default one is held on [::1] and no --port was asked for', async () => {
    const preferred = await hold('::1')
    const forwarding = await forwardWithFallback(forward, undefined, preferred)
    expect(forwarding.url).toMatch(/^http:\/\/localhost:\d+$/)
    expect(forwarding.url).not.toBe(`http://localhost:${preferred}`)
  })
})

describe('requireFreeIpv6Loopback', () => {
  it('refuses a port another process holds on [::1], where a client of localhost may land', async () => {
    const port = await hold('::1')
    const error = (await requireFreeIpv6Loopback(port, 'the Spark Connect server').catch((e: unknown) => e)) as StepError
    expect(error).toBeInstanceOf(StepError)
    expect(error.message).toBe(`another process listens on [::1]:${port}, where a client of localhost:${port} may connect instead of the Spark Connect server: refusing to hand out the address`)
    expect(error.details).toContain(`ss -ltnp 'sport = :${port}'`)
  })

  it('accepts a free port, and leaves it free', async () => {
    const port = await freeIpv6Port()
    await expect(requireFreeIpv6Loopback(port, 'the Spark Connect server')).resolves.toBeUndefined()
    expect(await hold('::1', port)).toBe(port)
  })

  it('does not mind 127.0.0.1 being held at the port (Docker publishes there)', async () => {
    const port = await hold('127.0.0.1')
    await expect(requireFreeIpv6Loopback(port, 'the Spark Connect server')).resolves.toBeUndefined()
  })
})

describe('requireFreeLoopback', () => {
  it('refuses, before Docker is asked to publish there, a port another process holds on 127.0.0.1', async () => {
    const port = await hold('127.0.0.1')
    const error = (await requireFreeLoopback(port, 'the History Server').catch((e: unknown) => e)) as StepError
    expect(error).toBeInstanceOf(StepError)
    expect(error.message).toBe(`another process listens on 127.0.0.1:${port}, where Docker is to publish the History Server`)
  })
})
