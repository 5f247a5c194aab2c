// How README.md quotes what the tool prints, so tests can hold each quote to the code's own output:
// - a message the tool prints (or a part of one) is a bold code span: **`…`**;
// - an image reference (spark-standalone:…) or a tag form (`<version>-…`) is one the build makes;
// - a ```json block is a --json summary.
// In a quote, `…` stands for any text and `<name>` for one word (no blank, no dash); a line break is a blank.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '../../scripts/lib/paths.ts'

export const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8')

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim()

/** The pattern a quote stands for. */
export function quotePattern(quote: string, whole = false): RegExp {
  const body = oneLine(quote)
    .split(/(…|<[^>]+>| )/)
    .map((part) => (part === '…' ? '.*?' : part === ' ' ? '\\s+' : /^<[^>]+>$/.test(part) ? '[^\\s-]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('')
  return new RegExp(whole ? `^${body}$` : body)
}

/** The bold code spans: messages the tool prints. */
export function messageQuotes(text: string): string[] {
  return [...text.matchAll(/\*\*`([^`]+)`\*\*/g)].map((match) => oneLine(match[1]))
}

/** Image references and tag forms, as written. */
export function imageQuotes(text: string): string[] {
  const references = [...text.matchAll(/spark-standalone:[^\s`"'),;]+/g)].map((match) => match[0])
  const tagForms = [...text.matchAll(/`(<version>-[^`]+)`/g)].map((match) => match[1])
  return [...references, ...tagForms]
}

/** The ```json blocks. */
export function jsonExamples(text: string): string[] {
  return [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1])
}

/** The quotes that match none of the printed texts (`whole`: a quote must be all of one, not a part). */
export function unmatched(quotes: string[], printed: string[], whole = false): string[] {
  return quotes.filter((quote) => !printed.some((text) => quotePattern(quote, whole).test(oneLine(text))))
}

/** Every key of an object and of the objects in it, with the values found under it. */
function valuesByKey(value: unknown, found = new Map<string, unknown[]>()): Map<string, unknown[]> {
  if (Array.isArray(value)) for (const item of value) valuesByKey(item, found)
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      found.set(key, [...(found.get(key) ?? []), inner])
      valuesByKey(inner, found)
    }
  }
  return found
}

/** What an example (with `…` for what it leaves out) shows that the real summary does not have: unknown keys, or values of another form. */
export function jsonExampleMismatches(example: string, real: unknown): string[] {
  const actual = valuesByKey(real)
  const pairs = [...example.matchAll(/"([^"]+)":\s*("(?:[^"\\]|\\.)*"|-?[\d.]+|true|false|[[{])/g)]
  return pairs.flatMap(([pair, key, value]) => {
    const values = actual.get(key)
    if (!values) return [`${pair}: no such key`]
    if (value === '{' || value === '[') return values.some((v) => v && typeof v === 'object') ? [] : [`${pair}: not an object or list`]
    const shown: unknown = JSON.parse(value)
    const same = values.some((v) => (typeof shown === 'string' ? typeof v === 'string' && quotePattern(shown, true).test(v) : typeof v === typeof shown))
    return same ? [] : [`${pair}: the code gives ${values.map((v) => JSON.stringify(v)).join(' or ')}`]
  })
}
