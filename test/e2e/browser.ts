// A real browser on the notebook server: Debian's Chromium (test/e2e/chromium-ground.ts) driven
// headless by playwright-core, through JupyterLab's own UI.
import { randomUUID } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { inject } from 'vitest'
import { errorMessage } from '../../scripts/lib/errors.ts'
import { groundReady } from '../background-ground.ts'
import { api, closeSessionsOf, deleteFile, kernelSpec, notebookOf, parseLabUrl, saveNotebook } from './jupyter.ts'

/** In a suite: the Chromium to launch, once the ground has installed it (a failed install fails the caller). */
export async function chromiumExecutable(): Promise<string> {
  const ground = inject('chromium')
  if (ground.statusFile) await groundReady(ground.statusFile, "Debian's chromium")
  return ground.executablePath
}

export interface LabOptions {
  executablePath: string
  /** For each wait: page load, kernel start, the cell run. Default 2 min. */
  timeoutMs?: number
}

/**
 * Opens the lab URL as printed (`http://localhost:<port>/lab?token=…`) on a new notebook of the
 * server's default kernel, types `code` into its first cell, runs it with Shift+Enter and returns
 * the text of the cell's outputs (no prompts) once the cell has finished. The notebook is made through the
 * contents API (with its kernel spec, so the lab starts that kernel without asking) and removed
 * afterwards, its kernel shut down. On failure the error names a screenshot of the page.
 */
export async function runCellInLab(labUrl: string, code: string, options: LabOptions): Promise<string> {
  const { baseUrl, token } = parseLabUrl(labUrl)
  const timeout = options.timeoutMs ?? 120_000
  const name = `browser-e2e-${randomUUID().slice(0, 8)}`
  const path = `${name}.ipynb`
  const kernel = await kernelSpec(baseUrl, token)
  await saveNotebook(baseUrl, token, path, notebookOf([''], [], kernel))
  // No sandbox flag of ours: playwright-core starts Chromium without its sandbox (chromiumSandbox
  // defaults to false), which is also what lets it run as root, as CI does. The page is our own lab.
  const browser = await chromium.launch({ executablePath: options.executablePath, headless: true, timeout })
  const page = await browser.newPage()
  try {
    page.setDefaultTimeout(timeout)
    // A workspace of its own: the default one reopens whatever was open before, each file asking for a kernel.
    const lab = new URL(`lab/workspaces/${name}/tree/${path}`, baseUrl)
    lab.searchParams.set('token', token)
    await page.goto(lab.href)
    // Run only once the kernel is up: a cell run before that makes the lab ask which kernel to start.
    await page.locator('.jp-StatusBar-Widget', { hasText: `${kernel.displayName} | Idle` }).waitFor()
    const cell = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell').first()
    const editor = cell.locator('.cm-content')
    await editor.click()
    // insertText, not key presses: the editor would auto-close brackets and re-indent what is typed.
    await page.keyboard.insertText(code)
    await page.keyboard.press('Shift+Enter')
    // `[*]:` while it runs, `[n]:` once it has run.
    await cell.locator('.jp-InputPrompt', { hasText: /\[\d+\]/ }).waitFor()
    // The cell is numbered once its run is done (reply and idle both in), so every output is there.
    return (await cell.locator('.jp-OutputArea-output').allInnerTexts()).join('\n')
  } catch (error) {
    const screenshot = join(tmpdir(), `${path}.png`)
    await page.screenshot({ path: screenshot }).catch(() => undefined)
    throw new Error(`in the lab at ${baseUrl}: ${errorMessage(error)} (screenshot: ${screenshot})`)
  } finally {
    await browser.close()
    await closeSessionsOf(baseUrl, token, path)
    await deleteFile(baseUrl, token, path)
    await api(baseUrl, token, 'DELETE', `lab/api/workspaces/${name}`)
  }
}
