import { randomBytes } from 'node:crypto';
import { access, chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { ContainerClient, StoragePipelineOptions } from '@azure/storage-blob';
import { DomainError } from '../errors.js';
import { DamagedContentError } from './content.js';
import { BackupLockedError } from './rules.js';

/**
 * Where backup objects are kept: a flat namespace of keys like `<backupName>/chunk-000000`. Every
 * backup since issue 15 goes through this one interface; the kind is picked when a store is opened.
 * Objects are chunk-sized (a few MiB at most), so they move as whole buffers.
 */
export interface ObjectStore {
  /** The store's name, for messages (never its credentials). */
  readonly name: string;
  put(key: string, data: Buffer): Promise<void>;
  /** The object's bytes; a missing object is damaged content. */
  get(key: string): Promise<Buffer>;
  head(key: string): Promise<{ size: number } | null>;
  list(prefix: string): Promise<{ key: string; size: number }[]>;
  /** Removes every object under `prefix`; refused for a prefix whose objects are locked. */
  deletePrefix(prefix: string): Promise<void>;
  /** Makes the objects under `prefix` undeletable through this store until `until` (a locked backup). */
  lock(prefix: string, until: Date): Promise<void>;
  /** Fails with a StoreUnavailableError unless the store can be written now. */
  probe(): Promise<void>;
}

/** The store could not be reached or refused an operation (code STORE_UNAVAILABLE). */
export class StoreUnavailableError extends DomainError {
  readonly code = 'STORE_UNAVAILABLE';
  constructor(
    readonly storeName: string,
    readonly detail: string,
  ) {
    super(`Backup store "${storeName}" failed: ${detail}`);
  }
}

/**
 * What may be said of a store failure: an error code or an HTTP status, never the message (the
 * Azure SDK puts request URLs, with their SAS signature, in messages).
 */
export function failureDetail(error: unknown): string {
  const e = error as { code?: unknown; statusCode?: unknown; errno?: unknown };
  const parts = [
    typeof e?.statusCode === 'number' ? `HTTP ${e.statusCode}` : '',
    typeof e?.code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(e.code) ? e.code : '',
  ].filter(Boolean);
  return parts.length ? parts.join(' ') : 'unreachable or refused the request';
}

async function guard<T>(name: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DomainError || error instanceof DamagedContentError) throw error;
    throw new StoreUnavailableError(name, failureDetail(error));
  }
}

const LOCK_MARK = '.locked';

/** A directory on the server's disk. A write goes to a temporary name, then is renamed into place. */
export function directoryStore(name: string, path: string): ObjectStore {
  const root = resolve(path);
  const fileOf = (key: string) => {
    const file = resolve(root, key);
    if (!file.startsWith(root + sep)) throw new DamagedContentError(`object key ${key} leaves the store`);
    return file;
  };
  const walk = async (dir: string): Promise<string[]> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    const found: string[] = [];
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) found.push(...(await walk(full)));
      else if (!entry.name.includes('.tmp-') && entry.name !== LOCK_MARK) found.push(full);
    }
    return found;
  };
  const store: ObjectStore = {
    name,
    put: (key, data) =>
      guard(name, async () => {
        const file = fileOf(key);
        await mkdir(dirname(file), { recursive: true });
        const temporary = `${file}.tmp-${randomBytes(6).toString('hex')}`;
        await writeFile(temporary, data);
        await rename(temporary, file);
      }),
    get: (key) =>
      guard(name, () =>
        readFile(fileOf(key)).catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') throw new DamagedContentError(`object ${key} is missing`);
          throw error;
        }),
      ),
    head: (key) =>
      guard(name, () =>
        stat(fileOf(key)).then(
          (s) => ({ size: s.size }),
          (error: NodeJS.ErrnoException) => {
            if (error.code === 'ENOENT') return null;
            throw error;
          },
        ),
      ),
    list: (prefix) =>
      guard(name, async () => {
        const files = await walk(root);
        const listed = [];
        for (const file of files) {
          const key = relative(root, file).split(sep).join('/');
          if (key.startsWith(prefix)) listed.push({ key, size: (await stat(file)).size });
        }
        return listed.sort((a, b) => a.key.localeCompare(b.key));
      }),
    deletePrefix: (prefix) =>
      guard(name, async () => {
        const dir = fileOf(prefix.replace(/\/$/, ''));
        const until = await readFile(join(dir, LOCK_MARK), 'utf8').then(
          (text) => new Date(text.trim()).getTime(),
          () => 0,
        );
        if (!(until <= Date.now()))
          throw new BackupLockedError(
            `Backup store "${name}" refuses to delete ${prefix}: its objects are locked until ${new Date(until).toISOString()}`,
            new Date(until),
          );
        await rm(dir, { recursive: true, force: true });
      }),
    lock: (prefix, until) =>
      guard(name, async () => {
        const dir = fileOf(prefix.replace(/\/$/, ''));
        await rm(join(dir, LOCK_MARK), { force: true });
        await writeFile(join(dir, LOCK_MARK), until.toISOString());
        for (const file of await walk(dir)) await chmod(file, 0o444);
        await chmod(join(dir, LOCK_MARK), 0o444);
      }),
    probe: () =>
      guard(name, async () => {
        await mkdir(root, { recursive: true });
        await access(root, constants.W_OK);
        const file = join(root, `.probe.tmp-${randomBytes(6).toString('hex')}`);
        await writeFile(file, '');
        await rm(file);
      }),
  };
  return store;
}

/** Bounded retries with exponential backoff, by the SDK itself. */
const pipelineOptions: StoragePipelineOptions = {
  retryOptions: { maxTries: 4, retryDelayInMs: 200, maxRetryDelayInMs: 2000, tryTimeoutInMs: 60_000 },
};

export interface AzureTarget {
  container: ContainerClient;
  accountName: string;
  /** The container's URL without any query (no SAS). */
  endpoint: string;
}

/**
 * A container of an Azure Storage account, from a connection string (and the container name) or
 * from a container SAS URL. Throws a plain Error when the credentials cannot be parsed.
 */
export async function azureTarget(credentials: string, containerName: string | null): Promise<AzureTarget> {
  // Loaded on first use: a deployment without an Azure store never pays for the SDK.
  const { AnonymousCredential, BlobServiceClient, ContainerClient, newPipeline } = await import('@azure/storage-blob');
  let container: ContainerClient;
  if (/^https?:\/\//i.test(credentials.trim())) {
    const url = new URL(credentials.trim());
    if (!url.searchParams.get('sig')) throw new Error('a container SAS URL carries a sig parameter');
    container = new ContainerClient(url.toString(), newPipeline(new AnonymousCredential(), pipelineOptions));
  } else {
    const service = BlobServiceClient.fromConnectionString(credentials.trim(), pipelineOptions);
    container = service.getContainerClient(containerName ?? DEFAULT_CONTAINER);
  }
  const endpoint = new URL(container.url);
  endpoint.search = '';
  return { container, accountName: container.accountName, endpoint: endpoint.toString() };
}

export const DEFAULT_CONTAINER = 'biztalk-backups';

/** Objects as block blobs in one container; locked prefixes are refused by this layer (see README). */
export function azureBlobStore(name: string, target: AzureTarget): ObjectStore {
  const { container } = target;
  let created: Promise<unknown> | null = null;
  const ensureContainer = () => {
    created ??= container.createIfNotExists().catch((error: { statusCode?: number }) => {
      created = null;
      // A container SAS cannot create its container; it exists if the SAS is any good.
      if (error?.statusCode !== 403) throw error;
    });
    return created;
  };
  return {
    name,
    put: (key, data) =>
      guard(name, async () => {
        await ensureContainer();
        await container.getBlockBlobClient(key).uploadData(data);
      }),
    get: (key) =>
      guard(name, () =>
        container
          .getBlobClient(key)
          .downloadToBuffer()
          .catch((error: { statusCode?: number }) => {
            if (error?.statusCode === 404) throw new DamagedContentError(`object ${key} is missing`);
            throw error;
          }),
      ),
    head: (key) =>
      guard(name, () =>
        container
          .getBlobClient(key)
          .getProperties()
          .then(
            (p) => ({ size: p.contentLength ?? 0 }),
            (error: { statusCode?: number }) => {
              if (error?.statusCode === 404) return null;
              throw error;
            },
          ),
      ),
    list: (prefix) =>
      guard(name, async () => {
        const listed = [];
        try {
          for await (const blob of container.listBlobsFlat({ prefix: prefix || undefined }))
            listed.push({ key: blob.name, size: blob.properties.contentLength ?? 0 });
        } catch (error) {
          if ((error as { statusCode?: number })?.statusCode === 404) return [];
          throw error;
        }
        return listed.sort((a, b) => a.key.localeCompare(b.key));
      }),
    deletePrefix: (prefix) =>
      guard(name, async () => {
        const keys: string[] = [];
        try {
          for await (const blob of container.listBlobsFlat({ prefix })) keys.push(blob.name);
        } catch (error) {
          if ((error as { statusCode?: number })?.statusCode === 404) return;
          throw error;
        }
        for (const key of keys) await container.deleteBlob(key, { deleteSnapshots: 'include' }).catch(ignore404);
      }),
    // Immutability on Azure is the account's own setting (README); here the layer above refuses.
    lock: async () => {},
    probe: () =>
      guard(name, async () => {
        await ensureContainer();
      }),
  };
}

function ignore404(error: { statusCode?: number }) {
  if (error?.statusCode !== 404) throw error;
}
