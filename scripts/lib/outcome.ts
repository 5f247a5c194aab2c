/** What a step did: it was skipped, with the reason shown, or it did something, said in a few words. */
export type StepOutcome = { skipped: string } | { done: string }

export function describeOutcome(outcome: StepOutcome): string {
  return 'skipped' in outcome ? `skipped: ${outcome.skipped}` : outcome.done
}

/** The same outcome with something the user should know added to what it says. */
export function withNote(outcome: StepOutcome, note: string): StepOutcome {
  return 'skipped' in outcome ? { skipped: `${outcome.skipped}; ${note}` } : { done: `${outcome.done}; ${note}` }
}
