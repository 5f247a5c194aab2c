// The README's configuration table and commands must match what the code accepts.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { npmScriptOf, optionSpecs } from '../../scripts/lib/config.ts'
import { repoRoot } from '../../scripts/lib/paths.ts'

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8')
const scripts = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).scripts as Record<string, string>

describe('README', () => {
  it('documents every flag and env var in its configuration table', () => {
    for (const spec of optionSpecs) {
      expect(readme, spec.flag).toMatch(new RegExp(`\\| \`${spec.flag}\``))
      if (spec.env) expect(readme, spec.env).toContain(`\`${spec.env}\``)
    }
  })

  it('names only npm scripts that exist, and every command has one', () => {
    const named = [...readme.matchAll(/npm run ([a-z:]+)/g)].map((match) => match[1])
    expect(named.length).toBeGreaterThan(5)
    for (const name of named) expect(Object.keys(scripts), name).toContain(name)
    for (const script of Object.values(npmScriptOf)) expect(scripts[script]).toMatch(/^node dist\/tasks\.js /)
  })

  it('gives the two set-up commands, and .ci/run runs the same test command', () => {
    expect(readme).toContain('npm ci && npm run cluster:up')
    expect(readme).toContain('npm ci && npm test')
    expect(readFileSync(join(repoRoot, '.ci/run'), 'utf8')).toMatch(/^npm test\b/m)
  })
})
