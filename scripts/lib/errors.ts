/** Bad input: one line naming the flag and the accepted form; exit 2, nothing touched. */
export class UsageError extends Error {
  readonly exitCode = 2
}

/** The work itself failed; `details` (pod status, events, logs) is printed after the message. */
export class StepError extends Error {
  readonly exitCode = 1
  constructor(
    message: string,
    readonly details?: string,
  ) {
    super(message)
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
