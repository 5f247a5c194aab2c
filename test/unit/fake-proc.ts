// A stand-in for scripts/lib/proc.ts: `run` records every command (as zx would split it into argv)
// and answers from a canned responder instead of starting a process. Used through
//   vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))
import { vi } from 'vitest'

export interface RecordedCommand {
  /** argv as zx would pass it: literal words split on spaces, interpolated arrays spread. */
  argv: string[]
  /** argv joined with single spaces, for readable assertions. */
  line: string
  options: Record<string, unknown>
}

export interface CannedResult {
  stdout?: string
  stderr?: string
  exitCode?: number
}

type Responder = (command: RecordedCommand) => CannedResult | undefined

export const fake = {
  calls: [] as RecordedCommand[],
  respond: (() => undefined) as Responder,
  reset(respond: Responder = () => undefined): void {
    this.calls = []
    this.respond = respond
  },
  lines(): string[] {
    return this.calls.map((call) => call.line)
  },
  /** Answers each command from the first entry whose key starts its line; anything else exits 127. */
  answerByPrefix(table: Record<string, CannedResult>): void {
    this.reset((command) => {
      const key = Object.keys(table).find((prefix) => command.line.startsWith(prefix))
      return key ? table[key] : { exitCode: 127, stderr: `unexpected: ${command.line}` }
    })
  },
}

function toArgv(strings: TemplateStringsArray, values: unknown[]): string[] {
  const argv: string[] = []
  strings.forEach((literal, i) => {
    argv.push(...literal.split(/\s+/).filter(Boolean))
    if (i < values.length) {
      const value = values[i]
      if (Array.isArray(value)) argv.push(...value.map(String))
      else argv.push(String(value))
    }
  })
  return argv
}

function execute(options: Record<string, unknown>, strings: TemplateStringsArray, values: unknown[]) {
  const argv = toArgv(strings, values)
  const command: RecordedCommand = { argv, line: argv.join(' '), options }
  fake.calls.push(command)
  const canned = fake.respond(command) ?? {}
  const result = { stdout: canned.stdout ?? '', stderr: canned.stderr ?? '', exitCode: canned.exitCode ?? 0 }
  const settled =
    result.exitCode !== 0 && !options.nothrow ? Promise.reject(Object.assign(new Error(`${command.line} exited ${result.exitCode}`), result)) : Promise.resolve(result)
  // Like zx's ProcessPromise, `for await (const line of run`…`)` reads stdout line by line.
  return Object.assign(settled, {
    async *[Symbol.asyncIterator]() {
      yield* result.stdout.split('\n').filter((line, i, all) => line !== '' || i < all.length - 1)
    },
  })
}

type Tagged = (strings: TemplateStringsArray, ...values: unknown[]) => Promise<{ stdout: string; stderr: string; exitCode: number }>

/** Callable like zx's `$`: run`cmd ${args}` or run({ nothrow: true })`cmd`. */
function makeRun(options: Record<string, unknown>) {
  function run(strings: TemplateStringsArray, ...values: unknown[]): ReturnType<Tagged>
  function run(more: Record<string, unknown>): Tagged
  function run(first: TemplateStringsArray | Record<string, unknown>, ...values: unknown[]): unknown {
    if (Array.isArray(first) && 'raw' in first) return execute(options, first as TemplateStringsArray, values)
    return makeRun({ ...options, ...(first as Record<string, unknown>) })
  }
  return run
}

export const run = makeRun({})
export const onPath = vi.fn(async (_name: string) => true)
export const succeeds = vi.fn(async (_command: string, _args: string[], _timeoutMs?: number) => true)
/** Records `from | to` as one command; the responder's exitCode fails it. */
export const pipeline = vi.fn(async (from: string[], to: string[]) => {
  const command: RecordedCommand = { argv: [...from, '|', ...to], line: [...from, '|', ...to].join(' '), options: {} }
  fake.calls.push(command)
  const canned = fake.respond(command) ?? {}
  if ((canned.exitCode ?? 0) !== 0) throw new Error(`\`${to.join(' ')}\` failed: ${canned.stderr ?? `exit ${canned.exitCode}`}`)
})
