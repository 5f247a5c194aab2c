// The Chromium ground, for the e2e projects' global setups (test/e2e/ground.ts, kube-ground.ts):
// Debian's chromium for the browser tests (test/e2e/browser.ts). Where the suite must run (CI) it
// is installed in the background (test/background-ground.ts) and a failure fails the browser tests;
// elsewhere a chromium already installed is used, and its absence is a skip reason.
import { existsSync } from 'node:fs'
import type { TestProject } from 'vitest/node'
import { chromiumPath, ensureChromium } from '../../scripts/ci/chromium-ground.ts'
import { inBackground } from '../background-ground.ts'

export interface ChromiumGround {
  executablePath: string
  /** Why the browser tests cannot run here; undefined when they can. */
  skipReason?: string
  /** For groundReady: set when the install runs in the background. */
  statusFile?: string
}

declare module 'vitest' {
  export interface ProvidedContext {
    chromium: ChromiumGround
  }
}

export function provideChromium(project: TestProject, mustRun: boolean): void {
  if (mustRun) {
    const log = (line: string) => console.error(`[chromium-ground] ${line}`)
    // One status file per project: both e2e projects register it; the second install finds it done.
    const background = inBackground(`chromium-${project.name}`, 0, () => ensureChromium(log))
    project.provide('chromium', { executablePath: chromiumPath, statusFile: background.statusFile })
    return
  }
  const skipReason = existsSync(chromiumPath) ? undefined : `no ${chromiumPath} (apt-get install chromium, or run as root with CI=true to have the ground install it)`
  project.provide('chromium', { executablePath: chromiumPath, skipReason })
}
