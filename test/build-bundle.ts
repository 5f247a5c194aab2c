// Root global setup: tests run the CLI as users do, from dist/ (test/e2e/cli.ts); build it from the
// sources under test so no test runs a stale bundle.
import { buildBundle } from '../scripts/build.ts'

export default async function setup(): Promise<void> {
  await buildBundle()
}
