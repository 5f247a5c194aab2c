// Runs the real CLI as a user would (`tsx tasks.ts <command>`), never in-process.
import { $ } from 'zx'
import { repoRoot } from '../../scripts/lib/paths.ts'

export interface CliResult {
  exitCode: number
  stdout: string
  stderr: string
  /** The --json summary, when the command printed one. */
  json?: Record<string, any>
}

export async function cli(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  const result = await $({ cwd: repoRoot, env: { ...process.env, ...env, CI: 'true' }, nothrow: true, quiet: true })`npx tsx tasks.ts ${args}`
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
