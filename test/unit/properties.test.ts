// The properties reader and writer: each expected value is what java.util.Properties.load reads
// from that text (checked against Java 17 while writing these cases).
import { describe, expect, it } from 'vitest'
import { parseProperties, propertyLine } from '../../scripts/lib/properties.ts'

/** The key/value pairs Java ends up with (the last line of a key wins); "!malformed" when it would throw. */
function read(text: string): Record<string, string> {
  const lines = parseProperties(text)
  if (lines.some((line) => line.malformed)) return { '!malformed': '' }
  return Object.fromEntries(lines.filter((line) => line.key !== undefined).map((line) => [line.key!, line.value!]))
}

describe('parseProperties reads keys and values as Properties.load does', () => {
  it.each([
    ['key value, key=value, key:value, blanks around the separator', 'a 1\nb=2\nc:3\n  d \t =  4\n\fe\t5', { a: '1', b: '2', c: '3', d: '4', e: '5' }],
    ['escapes in the key: \\. is a dot, \\u0069 an i', 'spark\\.authenticate false\nspark.authent\\u0069cate2 off', { 'spark.authenticate': 'false', 'spark.authenticate2': 'off' }],
    ['an escaped separator or blank stays in the key', 'a\\=b=c\nd\\:e:f\ng\\ h i\n\\#j k', { 'a=b': 'c', 'd:e': 'f', 'g h': 'i', '#j': 'k' }],
    ['one = or : after the key is the separator, the next is the value', 'a ==1\nb : :2\nc=:3\nd::=4', { a: '=1', b: ':2', c: ':3', d: ':=4' }],
    ['value escapes: \\t \\n \\r \\f, \\uXXXX, any other backslash dropped', 'a \\t\\n\\r\\f|\nb \\u00e9\\u20AC\nc \\x\\y\\\\z', { a: '\t\n\r\f|', b: 'é€', c: 'xy\\z' }],
    ['a trailing backslash joins the next line on, without its leading blanks', 'spark.authen\\\n    ticate false\nb one \\\n\t two', { 'spark.authenticate': 'false', b: 'one two' }],
    ['an even run of backslashes at the end is text, not a continuation', 'a x\\\\\nb y', { a: 'x\\', b: 'y' }],
    ['an empty line ends a continuation; a backslash at the very end is dropped', 'a x\\\n\nb y\\', { a: 'x', b: 'y' }],
    ['# or ! first is a comment, which never continues', '# a 1\n  ! b 2\n#c\\\nd 4', { d: '4' }],
    ['a # on a continuation line is text', 'a x\\\n  #y', { a: 'x#y' }],
    ['\\r, \\r\\n and \\n all end a line', 'a 1\rb 2\r\nc 3\r\n\r\nd 4\\\r\n  5', { a: '1', b: '2', c: '3', d: '45' }],
    ['a key alone has an empty value; trailing blanks stay in the value', 'a\nb   \nc v  ', { a: '', b: '', c: 'v  ' }],
    ['the last line of a key wins', 'spark.authenticate true\nspark\\.authenticate false', { 'spark.authenticate': 'false' }],
    ['a bad \\u escape anywhere makes Java refuse the file', 'a 1\nb \\u00g1\n', { '!malformed': '' }],
    ['a \\u escape cut short by the line end too', 'a \\u12', { '!malformed': '' }],
  ])('%s', (_, text, expected) => {
    expect(read(text)).toEqual(expected)
  })

  it('gives each logical line as written, comments included, blank lines left out', () => {
    expect(parseProperties('  a 1\n\n# note\nb 2\\\n   3\n')).toEqual([
      { text: 'a 1', key: 'a', value: '1' },
      { text: '# note' },
      { text: 'b 2\\\n   3', key: 'b', value: '23' },
    ])
  })
})

describe('propertyLine', () => {
  it('writes plain keys and values as people do', () => {
    expect(propertyLine('spark.authenticate', 'true')).toBe('spark.authenticate true')
    expect(propertyLine('spark.hadoop.fs.s3a.endpoint', 'http://10.0.0.5:9000')).toBe('spark.hadoop.fs.s3a.endpoint http://10.0.0.5:9000')
    expect(propertyLine('spark.network.crypto.cipher', 'AES/GCM/NoPadding')).toBe('spark.network.crypto.cipher AES/GCM/NoPadding')
  })

  it('escapes what Java would misread: a leading separator or blank, backslashes, control and non-ASCII characters', () => {
    expect(propertyLine('k', ':abc')).toBe('k \\:abc')
    expect(propertyLine('k', '=abc')).toBe('k \\=abc')
    expect(propertyLine('k', ' abc')).toBe('k \\ abc')
    expect(propertyLine('k', 'a\\b')).toBe('k a\\\\b')
    expect(propertyLine('k', 'tab\there\n')).toBe('k tab\\there\\n')
    expect(propertyLine('k', 'é')).toBe('k \\u00e9')
    expect(propertyLine('#k=1', 'v')).toBe('\\#k\\=1 v')
  })

  it.each([':abc', '=abc', '::', '==x', ' lead', 'ends\\', 'a\\nb', '#x', '!x', 'a b', 'x=y:z #w', 'tab\tx', '\\u0041', 'é€', '', 'trail ', 'line\nspark.authenticate false'])(
    'round-trips %j: Java reads back exactly the value written',
    (value) => {
      expect(parseProperties(`${propertyLine('spark.hadoop.fs.s3a.secret.key', value)}\nnext 1\n`)).toEqual([
        { text: propertyLine('spark.hadoop.fs.s3a.secret.key', value), key: 'spark.hadoop.fs.s3a.secret.key', value },
        { text: 'next 1', key: 'next', value: '1' },
      ])
    },
  )
})
