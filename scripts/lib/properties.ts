// Java properties files (spark-defaults.conf), read exactly as java.util.Properties.load reads them,
// so that what the tool checks in the cluster's conf is what every Spark process sees: a key written
// `spark\.authenticate` or `spark.authent\u0069cate` is spark.authenticate to Java, and to us.

/** One logical line of a properties file: a comment, or a key and value. */
export interface PropertiesLine {
  /** As written, from its first non-blank character to its line end (continuation lines included). */
  text: string
  /** What Properties.load reads from it; both undefined for a comment. */
  key?: string
  value?: string
  /** It holds a \u escape Java refuses (not four hex digits): Properties.load then reads no line of the file. */
  malformed?: true
}

const blank = (c: string) => c === ' ' || c === '\t' || c === '\f'
const lineEnd = (c: string) => c === '\n' || c === '\r'

/**
 * The logical lines of `text` as Properties.load's line reader finds them: blank lines skipped,
 * leading blanks dropped, `#` or `!` first makes a comment, and an odd number of backslashes at a
 * line's end joins the next line on, without its leading blanks.
 */
function logicalLines(text: string): Array<{ chars: string; start: number; end: number; comment: boolean }> {
  const found: Array<{ chars: string; start: number; end: number; comment: boolean }> = []
  let at = 0
  while (at < text.length) {
    let chars = ''
    let start = -1
    let skipBlanks = true
    let continued = false
    let escaping = false
    let comment = false
    for (;;) {
      if (at >= text.length) {
        // A backslash at the very end continues nothing and is dropped.
        if (chars !== '') found.push({ chars: escaping ? chars.slice(0, -1) : chars, start, end: at, comment: false })
        return found
      }
      const c = text[at]
      if (skipBlanks) {
        if (blank(c) || (!continued && lineEnd(c))) {
          at++
          continue
        }
        skipBlanks = false
        continued = false
      }
      if (chars === '' && (c === '#' || c === '!')) {
        const stop = text.slice(at).search(/[\r\n]/)
        const end = stop < 0 ? text.length : at + stop
        found.push({ chars: '', start: at, end, comment: true })
        at = end
        comment = true
        break
      }
      if (!lineEnd(c)) {
        if (start < 0) start = at
        chars += c
        escaping = c === '\\' ? !escaping : false
        at++
        continue
      }
      if (chars === '') {
        // An empty line after a continuation, or a lone backslash's: nothing to read yet.
        at++
        skipBlanks = true
        continue
      }
      if (!escaping) break
      chars = chars.slice(0, -1)
      // Java looks for more input at a line end only when it has read all it had: at the text's end,
      // the line is done, even when that leaves it empty (a lone backslash: key "").
      if (at + 1 >= text.length) break
      escaping = false
      at += c === '\r' && text[at + 1] === '\n' ? 2 : 1
      skipBlanks = true
      continued = true
    }
    if (!comment) found.push({ chars, start, end: at, comment: false })
  }
  return found
}

/** A key's or value's characters with Java's escapes applied; undefined for a malformed \uXXXX. */
function unescape(raw: string): string | undefined {
  let out = ''
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== '\\') {
      out += raw[i]
      continue
    }
    const c = raw[++i]
    if (c === 'u') {
      const hex = raw.slice(i + 1, i + 5)
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) return undefined
      out += String.fromCharCode(parseInt(hex, 16))
      i += 4
    } else {
      out += ({ t: '\t', r: '\r', n: '\n', f: '\f' } as Record<string, string>)[c] ?? c
    }
  }
  return out
}

/** The key ends at the first unescaped `=`, `:` or blank; then blanks and at most one `=` or `:` separate it from the value. */
function split(chars: string): [string, string] {
  let keyEnd = 0
  let escaping = false
  for (; keyEnd < chars.length; keyEnd++) {
    const c = chars[keyEnd]
    if (!escaping && (c === '=' || c === ':' || blank(c))) break
    escaping = c === '\\' ? !escaping : false
  }
  let valueStart = keyEnd
  let separated = false
  for (; valueStart < chars.length; valueStart++) {
    const c = chars[valueStart]
    if (blank(c)) continue
    if (!separated && (c === '=' || c === ':')) {
      separated = true
      continue
    }
    break
  }
  return [chars.slice(0, keyEnd), chars.slice(valueStart)]
}

/** Every logical line of a properties file, comments included, with the key and value Java reads from it. */
export function parseProperties(text: string): PropertiesLine[] {
  return logicalLines(text).map(({ chars, start, end, comment }) => {
    const written = text.slice(start, end)
    if (comment) return { text: written }
    const [rawKey, rawValue] = split(chars)
    const [key, value] = [unescape(rawKey), unescape(rawValue)]
    return key === undefined || value === undefined ? { text: written, malformed: true } : { text: written, key, value }
  })
}

/** A character as a \uXXXX escape. */
const unicode = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
const named: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\f': '\\f' }

/** Backslashes doubled; control and non-ASCII characters as escapes (the file stays ASCII, whatever reader). */
const escapeAlways = (s: string) =>
  s.replace(/[\\\x00-\x1f\x7f-\uffff]/g, (c) => (c === '\\' ? '\\\\' : (named[c] ?? unicode(c))))

/**
 * `key value` as one line that Properties.load reads back as exactly this key and value. Only what
 * Java would misread is escaped, so plain lines stay as people write them: in the key, separators
 * (`=`, `:`, a blank) and a leading `#` or `!`; in the value, a leading blank, `=` or `:` (the
 * separator would swallow it).
 */
export function propertyLine(key: string, value: string): string {
  const safeKey = escapeAlways(key).replace(/[=: ]/g, (c) => `\\${c}`).replace(/^[#!]/, (c) => `\\${c}`)
  const safeValue = escapeAlways(value).replace(/^[ =:]/, (c) => `\\${c}`)
  return `${safeKey} ${safeValue}`
}
