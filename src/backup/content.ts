import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import type { SecretBox } from '../crypto.js';

/** Compressed bytes per stored chunk, before encryption. */
export const CHUNK_BYTES = 1024 * 1024;

/** Chunk writes under way at once, while the next chunk is compressed. */
const WRITES_IN_FLIGHT = 3;

const chunkContext = (backupId: string, seq: number) => `backup:${backupId}:chunk:${seq}`;

export interface WrittenContent {
  sizeBytes: number;
  storedBytes: number;
  checksum: string;
}

/**
 * Streams NDJSON lines through gzip into encrypted chunks. Each chunk is sealed with AES-256-GCM
 * bound to its backup and position, so chunks cannot be swapped or reordered unnoticed. The
 * checksum is the SHA-256 of the uncompressed content.
 */
export async function writeContent(
  put: (seq: number, sealed: Buffer) => Promise<void>,
  box: SecretBox,
  backupId: string,
  lines: AsyncIterable<string>,
): Promise<WrittenContent> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  const gzip = createGzip();
  const plain = Readable.from(
    (async function* () {
      for await (const line of lines) {
        const bytes = Buffer.from(`${line}\n`);
        hash.update(bytes);
        sizeBytes += bytes.length;
        yield bytes;
      }
    })(),
  );
  const compressed = plain.pipe(gzip);
  plain.once('error', (error) => gzip.destroy(error));
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let seq = 0;
  let storedBytes = 0;
  // Chunks are written while the next ones are compressed, a few at a time (memory stays bounded).
  const writing: Promise<void>[] = [];
  const settle = async () => {
    // Every write ends before a failure is reported, so that the caller's cleanup finds them all.
    const outcomes = await Promise.allSettled(writing.splice(0));
    const failed = outcomes.find((o) => o.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  };
  const flush = async () => {
    const sealed = box.sealBytes(
      pending.length === 1 ? pending[0]! : Buffer.concat(pending),
      chunkContext(backupId, seq),
    );
    pending = [];
    pendingBytes = 0;
    if (writing.length >= WRITES_IN_FLIGHT) {
      try {
        await writing[0];
        writing.shift();
      } catch {
        await settle(); // throws that write's error once the others have ended
      }
    }
    const write = put(seq++, sealed);
    write.catch(() => {}); // awaited above or in settle()
    writing.push(write);
    storedBytes += sealed.length;
  };
  try {
    for await (const data of compressed as AsyncIterable<Buffer>) {
      pending.push(data);
      pendingBytes += data.length;
      if (pendingBytes >= CHUNK_BYTES) await flush();
    }
    if (pendingBytes > 0 || seq === 0) await flush();
  } finally {
    await settle();
  }
  return { sizeBytes, storedBytes, checksum: hash.digest('hex') };
}

/** Opens (decrypts and authenticates) a backup's sealed chunks, in order; `contentId` is the id they were sealed under. */
export async function* openChunks(
  box: SecretBox,
  contentId: string,
  sealed: AsyncIterable<Buffer>,
): AsyncIterable<Buffer> {
  let seq = 0;
  for await (const chunk of sealed) yield box.openBytes(chunk, chunkContext(contentId, seq++));
}

/** Decompressed content lines of opened chunks. Throws when a chunk fails authentication. */
export function readLines(
  chunks: AsyncIterable<Buffer>,
): AsyncIterable<string> & { checksum(): string; size(): number } {
  const hash = createHash('sha256');
  let size = 0;
  const decrypted = Readable.from(chunks);
  const gunzip = createGunzip({ chunkSize: CHUNK_BYTES }); // large pieces: far fewer trips through the stream and the line splitting
  decrypted.once('error', (error) => gunzip.destroy(error));
  const plain = decrypted.pipe(gunzip);
  const lines = (async function* () {
    // Cut at newline bytes and decode each line alone: a newline byte is never part of a multi-byte
    // character, and no large string is built, concatenated and split again.
    let rest: Buffer[] = [];
    try {
      for await (const data of plain as AsyncIterable<Buffer>) {
        hash.update(data);
        size += data.length;
        let start = 0;
        for (let end = data.indexOf(10); end !== -1; start = end + 1, end = data.indexOf(10, start)) {
          if (!rest.length) yield data.toString('utf8', start, end);
          else {
            rest.push(data.subarray(0, end));
            yield Buffer.concat(rest).toString('utf8');
            rest = [];
          }
        }
        if (start < data.length) rest.push(data.subarray(start));
      }
      if (rest.length) yield Buffer.concat(rest).toString('utf8');
    } finally {
      decrypted.destroy(); // a reader that stops early stops the reading of the chunks (and frees its connection)
    }
  })();
  return Object.assign(lines, { checksum: () => hash.digest('hex'), size: () => size });
}

/** Content that reads back but is not what the backup format writes (a line it cannot have written). */
export class DamagedContentError extends Error {
  override readonly name = 'DamagedContentError';
}

/**
 * Whether reading a backup failed because its content is damaged (a chunk that fails authentication
 * or decompression, or is missing, or a line the format cannot have written) rather than because the
 * database could not be read.
 */
export function isContentDamage(error: unknown): boolean {
  if (error instanceof DamagedContentError) return true;
  const e = error as { code?: string; message?: string };
  return (
    (typeof e?.code === 'string' && e.code.startsWith('Z_')) ||
    /unable to authenticate|unexpected end of file|chunk \d+ is missing|unknown format/i.test(e?.message ?? '')
  );
}
