import type { DocumentNode } from 'graphql';

/** What yoga's parser cache needs of a cache. */
export interface TextKeyedCache<T> {
  get(key: string): T | undefined;
  set(key: string, value: T): void;
}

/**
 * A least-recently-used cache bounded in bytes as well as entries, keyed by an operation's text: a
 * text longer than `maxKeyChars` is never kept (clients' own operations are short; a long one is
 * most likely sent once), and an entry is counted as its text plus its parsed form, estimated at
 * `bytesPerChar` bytes per character of text.
 */
export function boundedTextCache<T>(options: {
  maxEntries: number;
  maxBytes: number;
  maxKeyChars: number;
  bytesPerChar?: number;
}): TextKeyedCache<T> {
  const { maxEntries, maxBytes, maxKeyChars, bytesPerChar = 10 } = options;
  const entries = new Map<string, T>();
  let bytes = 0;
  const cost = (key: string) => key.length * bytesPerChar;
  return {
    get(key) {
      const value = entries.get(key);
      if (value === undefined) return undefined;
      // Most recently used last.
      entries.delete(key);
      entries.set(key, value);
      return value;
    },
    set(key, value) {
      if (key.length > maxKeyChars) return;
      if (entries.delete(key)) bytes -= cost(key);
      entries.set(key, value);
      bytes += cost(key);
      for (const oldest of entries.keys()) {
        if (entries.size <= maxEntries && bytes <= maxBytes) break;
        entries.delete(oldest);
        bytes -= cost(oldest);
      }
    },
  };
}

/** The parse caches of the endpoint: documents and parse errors, a few MB at most whatever is sent. */
export function documentCaches() {
  return {
    documentCache: boundedTextCache<DocumentNode>({
      maxEntries: 256,
      maxBytes: 16 * 1024 * 1024,
      maxKeyChars: 16 * 1024,
    }),
    errorCache: boundedTextCache<unknown>({ maxEntries: 64, maxBytes: 2 * 1024 * 1024, maxKeyChars: 4 * 1024 }),
  };
}
