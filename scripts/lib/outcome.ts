/** What a step did: it was skipped, with the reason shown, or it did something, said in a few words. */
export type StepOutcome = { skipped: string } | { done: string }

export function describeOutcome(outcome: StepOutcome): string {
  return 'skipped' in outcome ? `skipped: ${outcome.skipped}` : outcome.done
}
