import { connect, type Socket } from 'node:net';
import postgres from 'postgres';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * The values of a one-column `bytea` query, in order, read with `COPY (query) TO STDOUT (FORMAT
 * binary)`: the bytes as stored, where a SELECT would send them as hex text (twice the size, encoded
 * by PostgreSQL and decoded here: six times slower for backup chunks).
 *
 * It runs on a connection of its own, closed at the end or when the reader stops early: postgres.js
 * can leave a connection paused after a COPY (porsager/postgres#499), so none goes back to the pool.
 * COPY takes no parameters: `query` must not contain untrusted text.
 */
export async function* copyOutBytea(url: string, query: string): AsyncGenerator<Buffer> {
  await readers.acquire();
  // Our own socket, destroyed at the end: postgres.js's end() alone leaves a paused socket open, and
  // a server process still writing a COPY nobody reads would wait on it for ever.
  let socket: Socket | undefined;
  const options = {
    max: 1,
    onnotice: () => {},
    // postgres.js's (untyped) socket factory: it takes the socket connected.
    socket: ({ host, port, path }: { host: string[]; port: number[]; path?: string }) =>
      new Promise<Socket>((resolve, reject) => {
        socket = path ? connect(path) : connect(port[0]!, host[0]!);
        socket.once('connect', () => resolve(socket!)).once('error', reject);
      }),
  };
  const sql = postgres(url, options as postgres.Options<Record<string, postgres.PostgresType>>);
  try {
    const stream = await sql.unsafe(`copy (${query}) to stdout (format binary)`).readable();
    yield* byteaValues(stream);
  } finally {
    await sql.end({ timeout: 0 });
    socket?.destroy();
    readers.release();
  }
}

/** At most MAX_READERS COPY connections at once: plans, verifications and restores beyond that wait their turn. */
const MAX_READERS = 4;
const readers = {
  active: 0,
  waiting: [] as (() => void)[],
  async acquire() {
    if (this.active < MAX_READERS) return void this.active++;
    await new Promise<void>((resolve) => this.waiting.push(resolve)); // the releaser hands its place over
  },
  release() {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  },
};

/** Parses PostgreSQL's binary COPY format (one non-null column per row) from pieces cut anywhere. */
export async function* byteaValues(stream: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let pieces: Buffer[] = [];
  let buffered = 0;
  /** The next `n` bytes, or null until that many have arrived. */
  const take = (n: number): Buffer | null => {
    if (buffered < n) return null;
    const all = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
    pieces = all.length > n ? [all.subarray(n)] : [];
    buffered -= n;
    return all.subarray(0, n);
  };
  let state: 'header' | 'extension' | 'row' | 'length' | 'value' | 'end' = 'header';
  let need = SIGNATURE.length + 8;
  for await (const piece of stream) {
    pieces.push(piece);
    buffered += piece.length;
    for (let bytes = take(need); bytes; bytes = take(need)) {
      if (state === 'header') {
        if (!bytes.subarray(0, SIGNATURE.length).equals(SIGNATURE))
          throw new Error('COPY: not PostgreSQL binary format');
        [state, need] = ['extension', bytes.readUInt32BE(SIGNATURE.length + 4)];
      } else if (state === 'extension') {
        [state, need] = ['row', 2];
      } else if (state === 'row') {
        const fields = bytes.readInt16BE(0);
        if (fields === -1) [state, need] = ['end', Infinity];
        else if (fields !== 1) throw new Error('COPY: expected one column per row');
        else [state, need] = ['length', 4];
      } else if (state === 'length') {
        if (bytes.readInt32BE(0) < 0) throw new Error('COPY: expected no null value');
        [state, need] = ['value', bytes.readInt32BE(0)];
      } else {
        yield bytes;
        [state, need] = ['row', 2];
      }
    }
  }
  if (state !== 'end') throw new Error('COPY: the data ended early');
}
