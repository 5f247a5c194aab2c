import { errorMessage } from './errors.ts'
import type { Target } from './target.ts'

export const logLines = 20

/** What a person would look at when something failed: pod/container status, recent events, last log lines. */
export async function collectDiagnostics(target: Target): Promise<string> {
  try {
    return await target.runtime.diagnostics()
  } catch (error) {
    return `(could not collect diagnostics: ${errorMessage(error)})`
  }
}

export function indent(text: string): string {
  return text.trimEnd().split('\n').map((line) => `  ${line}`).join('\n')
}
