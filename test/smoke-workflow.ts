// The `npm run` steps of .github/workflows/smoke.yml, read once: the unit tests check them against
// the CLI, and the minikube end-to-end suite runs exactly these commands on a real minikube.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { npmScriptOf, type Command } from '../scripts/lib/config.ts'
import { repoRoot } from '../scripts/lib/paths.ts'

export interface WorkflowStep {
  name?: string
  run?: string
  uses?: string
  with?: Record<string, unknown>
}

export interface SmokeInvocation {
  script: string
  /** The tasks.ts command the script runs (undefined when it is none). */
  command?: Command
  args: string[]
}

const workflow = parse(readFileSync(join(repoRoot, '.github/workflows/smoke.yml'), 'utf8')) as { jobs: Record<string, { steps: WorkflowStep[] }> }
export const smokeSteps = Object.values(workflow.jobs).flatMap((job) => job.steps)
const commandOfScript = Object.fromEntries(Object.entries(npmScriptOf).map(([command, script]) => [script, command as Command]))

/** `npm run <script> -- <args>` lines of the workflow's run steps (pipes and redirections cut off), in order. */
export const smokeInvocations: SmokeInvocation[] = smokeSteps
  .flatMap((step) => (step.run ?? '').split('\n'))
  .map((line) => /^\s*npm run ([\w:-]+)(?: -- ([^|>&;]*))?/.exec(line))
  .filter((match): match is RegExpExecArray => match !== null)
  .map((match) => ({ script: match[1], command: commandOfScript[match[1]], args: (match[2] ?? '').trim().split(/\s+/).filter(Boolean) }))

/** The workflow's arguments for one tasks.ts command; throws when the workflow does not run it. */
export function smokeArgs(command: Command): string[] {
  const invocation = smokeInvocations.find((i) => i.command === command)
  if (!invocation) throw new Error(`.github/workflows/smoke.yml runs no \`npm run ${npmScriptOf[command]}\``)
  return invocation.args
}
