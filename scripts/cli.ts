// The command line the npm scripts run (bundled as dist/tasks.js). Which command, with which flags,
// or its help, or why it was refused: all settled here before the task graphs (tasks.ts) and what
// they load (node's network and process modules, the step modules) are read, so --help and a
// mistyped flag answer at about node's own start-up time.
import { commands, helpText, npmScriptOf, parseConfig, type Command, type Config } from './lib/config.ts'
import { errorMessage, UsageError } from './lib/errors.ts'
import { rerunIfStale } from './lib/fresh-build.ts'
import { isMain } from './lib/main.ts'

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (!commands.includes(command as Command)) {
    console.error(`error: unknown command "${command ?? ''}"; use one of: npm run ${commands.map((c) => npmScriptOf[c]).join(' | ')}`)
    return 2
  }
  let config: Config
  try {
    config = parseConfig(command as Command, rest)
  } catch (error) {
    console.error(`error: ${errorMessage(error)}`)
    return error instanceof UsageError ? 2 : 1
  }
  if (config.help) {
    console.log(helpText(config.command))
    return 0
  }
  const { runCommand } = await import('../tasks.ts')
  return runCommand(config)
}

if (isMain(import.meta.url)) {
  rerunIfStale(import.meta.url).then(async (code) => code ?? main(process.argv.slice(2))).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`error: ${errorMessage(error)}`)
      process.exit(1)
    },
  )
}
