#!/usr/bin/env -S npx tsx
// npm run build (and `prepare`, so `npm ci` runs it): bundles the command line (scripts/cli.ts, as
// dist/tasks.js, the name the npm scripts run), the task graphs of tasks.ts and what they import
// (listr2 and the Kubernetes client included; zx and yaml stay in node_modules, loaded on need) into
// dist/ as plain JavaScript, so a command starts in node alone instead of compiling TypeScript on
// every run. Code split at each dynamic import: --help loads none of the task graphs, listr2, zx or
// the Kubernetes client, and only commands that talk to a cluster load the latter.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { repoRoot } from './lib/paths.ts'
import { runIfMain } from './lib/main.ts'

export const distDir = join(repoRoot, 'dist')
/** What the npm scripts run: `node dist/tasks.js <command>`. */
export const bundleEntry = join(distDir, 'tasks.js')
/** What the bundle was built from (our sources and the lockfile), for the staleness check (scripts/lib/fresh-build.ts). */
export const sourcesFile = join(distDir, 'sources.json')
/** Which packages each file of dist/ carries inside it, so a test can tell what a process loads from the files it opens. */
export const packagesFile = join(distDir, 'packages.json')

/** The package a bundled input came from (`node_modules/@scope/name/…` → `@scope/name`), or undefined for our own sources. */
export function packageOf(input: string): string | undefined {
  return /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1]
}

export async function buildBundle(): Promise<{ files: number; bytes: number; seconds: number }> {
  const started = performance.now()
  const esbuild = await import('esbuild')
  const result = await esbuild.build({
    absWorkingDir: repoRoot,
    entryPoints: [{ in: 'scripts/cli.ts', out: 'tasks' }],
    outdir: distDir,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Smaller text parses faster; names are kept so errors and class checks read as in the source.
    minify: true,
    keepNames: true,
    define: { IN_BUNDLE: 'true' },
    // The rebuild that the staleness check runs needs esbuild itself, from node_modules.
    external: ['esbuild'],
    // CommonJS dependencies inside an ES module bundle still call require() for node's modules.
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as bundleRequire } from 'node:module'; const require = bundleRequire(import.meta.url);" },
    metafile: true,
    logLevel: 'warning',
  })
  const ours = Object.keys(result.metafile.inputs).filter((input) => packageOf(input) === undefined)
  mkdirSync(distDir, { recursive: true })
  writeFileSync(sourcesFile, `${JSON.stringify([...ours, 'package-lock.json'].sort(), null, 1)}\n`)
  const outputs = Object.entries(result.metafile.outputs)
  const packages = outputs.map(([file, output]) => [relative(distDir, join(repoRoot, file)), [...new Set(Object.keys(output.inputs).flatMap((input) => packageOf(input) ?? []))].sort()])
  writeFileSync(packagesFile, `${JSON.stringify(Object.fromEntries(packages), null, 1)}\n`)
  return { files: outputs.length, bytes: outputs.reduce((sum, [, o]) => sum + o.bytes, 0), seconds: (performance.now() - started) / 1000 }
}

runIfMain(import.meta.url, async () => {
  const { files, bytes, seconds } = await buildBundle()
  console.error(`built ${relative(process.cwd(), bundleEntry)}: ${files} files, ${(bytes / 1e6).toFixed(1)} MB, ${seconds.toFixed(1)} s`)
})
