import { pathToFileURL } from 'node:url'
import { errorMessage } from './errors.ts'

/** True when the module at `moduleUrl` is the script node was asked to run. */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1]
  return Boolean(entry) && moduleUrl === pathToFileURL(entry).href
}

/**
 * Defined (true) by scripts/build.ts. In the bundle a step module's import.meta.url is its chunk's or
 * the entry's, so it could think it was run alone: there only the command line (scripts/cli.ts) runs
 * (steps run alone under tsx).
 */
declare const IN_BUNDLE: boolean | undefined

/** Runs a script's body when it is run alone; a thrown error becomes one line and exit 1. */
export function runIfMain(moduleUrl: string, body: () => Promise<unknown>): void {
  if (typeof IN_BUNDLE !== 'undefined' || !isMain(moduleUrl)) return
  body().catch((error: unknown) => {
    const exitCode = (error as { exitCode?: number }).exitCode ?? 1
    console.error(`error: ${errorMessage(error)}`)
    process.exit(exitCode)
  })
}
