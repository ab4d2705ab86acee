import type { DocumentNode } from 'graphql';
import { LRUCache } from 'lru-cache';

/**
 * A least-recently-used cache keyed by an operation's text, bounded in bytes as well as entries: a
 * text longer than `maxKeyChars` is never kept (clients' own operations are short; a long one is most
 * likely sent once), and an entry counts as its text plus its parsed form, about 10 bytes a character.
 */
function textKeyedCache<T extends object>(maxEntries: number, maxBytes: number, maxKeyChars: number) {
  return new LRUCache<string, T>({
    max: maxEntries,
    maxSize: maxBytes,
    maxEntrySize: maxKeyChars * 10,
    sizeCalculation: (_value, key) => Math.max(1, key.length * 10),
  });
}

/** The parse caches of the endpoint: documents and parse errors, a few MB at most whatever is sent. */
export function documentCaches() {
  return {
    documentCache: textKeyedCache<DocumentNode>(256, 16 * 1024 * 1024, 16 * 1024),
    errorCache: textKeyedCache<Error>(64, 2 * 1024 * 1024, 4 * 1024),
  };
}
