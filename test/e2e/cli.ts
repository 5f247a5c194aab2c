// Runs the real CLI as a user does (`node dist/tasks.js <command>`, what the npm scripts run), never
// in-process. The bundle is built from the current sources before any test (test/build-bundle.ts).
import { spawn } from 'node:child_process'
import { $ } from 'zx'
import { bundleEntry } from '../../scripts/build.ts'
import { repoRoot } from '../../scripts/lib/paths.ts'

export interface CliResult {
  exitCode: number
  stdout: string
  stderr: string
  /** The --json summary, when the command printed one. */
  json?: Record<string, any>
}

export async function cli(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  return cliWithInput(env, '', ...args)
}

/** The CLI with this text piped to its stdin, as `echo … | npm run shell` would. */
export async function cliWithInput(env: Record<string, string>, input: string, ...args: string[]): Promise<CliResult> {
  const result = await $({ cwd: repoRoot, env: { ...process.env, ...env, CI: 'true' }, nothrow: true, quiet: true, input })`node ${bundleEntry} ${args}`
  let json: Record<string, any> | undefined
  try {
    json = JSON.parse(result.stdout)
  } catch {
    json = undefined
  }
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr, json }
}

/** Docker objects of one kind carrying a label, by name. */
export async function labelled(kind: 'container' | 'network' | 'volume', label: string): Promise<string[]> {
  const listing = kind === 'container' ? $`docker ps --all --filter label=${label} --format {{.Names}}` : $`docker ${kind} ls --filter label=${label} --format {{.Name}}`
  return (await listing.quiet()).stdout.split('\n').filter(Boolean)
}

/** A long-running CLI command (npm run ui): its first stdout line, and a stop by signal that yields the exit code. */
export interface RunningCli {
  firstLine: Promise<string>
  /** The exit code once the command ends by itself. */
  exit: Promise<number | null>
  stop(signal?: NodeJS.Signals): Promise<number | null>
  output(): { stdout: string; stderr: string }
}

export function startCli(env: Record<string, string>, ...args: string[]): RunningCli {
  // One process, so the signal reaches the CLI itself, as Ctrl-C would.
  const child = spawn(process.execPath, [bundleEntry, ...args], { cwd: repoRoot, env: { ...process.env, ...env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const firstLine = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk
      if (stdout.includes('\n')) resolve(stdout.split('\n')[0])
    })
    void exited.then((code) => reject(new Error(`exited ${code} before printing a line: ${stderr}`)))
  })
  // Awaited only by callers that want the line: a command stopped before printing one is no error then.
  firstLine.catch(() => undefined)
  return {
    firstLine,
    exit: exited,
    stop: async (signal = 'SIGINT') => {
      if (child.exitCode === null) child.kill(signal)
      return exited
    },
    output: () => ({ stdout, stderr }),
  }
}
