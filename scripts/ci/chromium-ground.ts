#!/usr/bin/env -S npx tsx
/**
 * The browser the notebook e2e drives headless through playwright-core: Debian's chromium package
 * (playwright's own browser download is not reachable from CI). Idempotent: nothing to do when
 * it is installed; else apt-get installs it (as root, as CI runs).
 *
 *   npx tsx scripts/ci/chromium-ground.ts     # installs it if missing and prints its path
 */
import { runIfMain } from '../lib/main.ts'
import { ensurePackages, type Log } from './host.ts'

export const chromiumPath = '/usr/bin/chromium'

export async function ensureChromium(log: Log): Promise<string> {
  await ensurePackages(log, { chromium: chromiumPath })
  return chromiumPath
}

runIfMain(import.meta.url, async () => {
  console.log(await ensureChromium((line) => console.error(`[chromium-ground] ${line}`)))
})
