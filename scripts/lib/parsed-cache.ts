import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

interface Entry<T> {
  /** The file's size and modification time when it was parsed. */
  stamp: string
  value: T
}

/**
 * Parsed files kept as JSON beside each other in one cache file, each valid while its file's size and
 * modification time are unchanged. Parsing the manifests' YAML is most of a short command's start-up;
 * reading them back as JSON costs next to nothing. A cache that cannot be read or written is ignored.
 */
export class ParsedFileCache<T> {
  private readonly entries: Record<string, Entry<T>>
  private changed = false

  constructor(private readonly cacheFile: string) {
    try {
      this.entries = JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, Entry<T>>
    } catch {
      this.entries = {}
    }
  }

  get(path: string, parse: (path: string) => T): T {
    const { size, mtimeMs } = statSync(path)
    const stamp = `${size}:${mtimeMs}`
    const entry = this.entries[path]
    if (entry?.stamp === stamp) return entry.value
    const value = parse(path)
    this.entries[path] = { stamp, value }
    this.changed = true
    return value
  }

  /**
   * Writes the cache when something was parsed (atomically: other commands may read it meanwhile),
   * without the files that are gone (copies of the manifests in temporary dirs): every command reads
   * the whole cache at start-up, so it must not grow with each copy ever parsed.
   */
  save(): void {
    if (!this.changed) return
    try {
      mkdirSync(dirname(this.cacheFile), { recursive: true })
      const partial = `${this.cacheFile}.${process.pid}`
      const kept = Object.fromEntries(Object.entries(this.entries).filter(([path]) => existsSync(path)))
      writeFileSync(partial, JSON.stringify(kept))
      renameSync(partial, this.cacheFile)
      this.changed = false
    } catch {
      // A read-only cache dir only costs the next command a parse.
    }
  }
}
