import { createRequire } from 'node:module'
import type * as Zx from 'zx/core'

// zx is loaded by a command's first process, not at start-up: --help and a rejected flag never need it.
let zx: typeof Zx | undefined
const loadZx = () => (zx ??= createRequire(import.meta.url)('zx/core') as typeof Zx)
let quietShell: Zx.Shell | undefined
const shell = (): Zx.Shell => (quietShell ??= loadZx().$<{ quiet: true }, Zx.Shell>({ quiet: true }))

/** zx with the output kept off the terminal (listr2 owns it); callers add cwd/env as needed. */
export const run = ((...args: Parameters<Zx.Shell>) => shell()(...args)) as Zx.Shell

/** True when `name` is on PATH. */
export async function onPath(name: string): Promise<boolean> {
  return (await loadZx().which(name, { nothrow: true })) !== null
}

/** Runs a command and reports success instead of throwing (for probes like `docker info`). */
export async function succeeds(command: string, args: string[], timeoutMs = 15_000): Promise<boolean> {
  const result = await run({ nothrow: true, timeout: timeoutMs })`${command} ${args}`
  return result.exitCode === 0
}

/**
 * `from | to` without a shell and without holding the stream in memory (zx keeps a command's whole
 * stdout, which for `docker save` is the image). Rejects naming the first side that failed, with the
 * last line it wrote to stderr.
 */
export async function pipeline(from: string[], to: string[]): Promise<void> {
  const { spawn } = await import('node:child_process')
  const start = (argv: string[], stdio: Array<'pipe' | 'ignore'>) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: stdio as ['pipe', 'pipe', 'pipe'] })
    const stderr: Buffer[] = []
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk))
    const exit = new Promise<string | undefined>((resolve) => {
      child.on('error', (error) => resolve(error.message))
      child.on('close', (code, signal) => {
        const last = Buffer.concat(stderr).toString('utf8').trim().split('\n').pop()
        resolve(code === 0 ? undefined : `${last || (signal ? `killed by ${signal}` : `exit ${code}`)}`)
      })
    })
    return { child, exit }
  }
  const source = start(from, ['ignore', 'pipe', 'pipe'])
  const sink = start(to, ['pipe', 'ignore', 'pipe'])
  source.child.stdout!.pipe(sink.child.stdin!)
  // A sink that exits before the source is done must not leave it blocked on a full pipe: it is
  // stopped, and the sink's own exit is the one to report. Its stdout is drained to nowhere (a
  // paused stream never sees its end, so the source would never 'close'), and it gets SIGKILL:
  // docker's CLI catches SIGTERM to cancel its request, which a write blocked on the pipe never sees.
  let sinkGaveUp = false
  let sourceDone = false
  source.child.stdout!.on('end', () => (sourceDone = true))
  const stopSource = () => {
    source.child.stdout!.unpipe()
    source.child.stdout!.resume()
    if (sourceDone || source.child.exitCode !== null || source.child.signalCode !== null) return
    sinkGaveUp = true
    source.child.kill('SIGKILL')
  }
  sink.child.stdin!.on('error', stopSource)
  sink.child.on('exit', stopSource)
  const [sourceProblem, sinkProblem] = await Promise.all([source.exit, sink.exit])
  if (sourceProblem && !(sinkGaveUp && sinkProblem)) throw new Error(`\`${from.join(' ')}\` failed: ${sourceProblem}`)
  if (sinkProblem) throw new Error(`\`${to.join(' ')}\` failed: ${sinkProblem}`)
}
