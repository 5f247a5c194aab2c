// Root global setup: vitest runs it after every project's, so by now each has registered the
// ground it needs (test/background-ground.ts); start making them, in order, and return at once.
// Its teardown (after every project's) removes the status files.
import { startGrounds } from './background-ground.ts'

export default function setup(): () => Promise<void> {
  return startGrounds()
}
