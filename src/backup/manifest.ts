import type { SecretBox } from '../crypto.js';
import type { ItemCount } from './rules.js';

/** Version of the manifest's own layout (the content's is its formatVersion). */
export const MANIFEST_VERSION = 1;
const MANIFEST_NAME = 'biztalk-backup-manifest';

/** The layout of a backup in its store: `<backupName>/manifest.json` beside `<backupName>/chunk-000000` … */
export const backupPrefix = (backupName: string) => `${backupName}/`;
export const manifestKey = (backupName: string) => `${backupName}/manifest.json`;
export const chunkKey = (backupName: string, seq: number) => `${backupName}/chunk-${String(seq).padStart(6, '0')}`;

export interface ManifestChunk {
  key: string;
  size: number;
  sha256: string;
}

/** What a backup in a store says of itself: enough to list and restore it without the database that made it. */
export interface Manifest {
  format: typeof MANIFEST_NAME;
  manifestVersion: number;
  formatVersion: number;
  backupId: string;
  backupName: string;
  kind: 'ON_DEMAND' | 'SCHEDULED';
  label: string | null;
  service: { id: string | null; name: string; edition: string; region: string };
  createdAt: string;
  completedAt: string;
  sizeBytes: number;
  storedBytes: number;
  checksum: string;
  itemCounts: ItemCount[];
  excluded: string[];
  hybridConnectionNames: string[];
  warnings: string[];
  allowBatchMessageLoss: boolean;
  chunks: ManifestChunk[];
}

/** The manifest as stored: its JSON and an HMAC of that JSON under a key derived from ENCRYPTION_KEY. */
export function encodeManifest(box: SecretBox, manifest: Omit<Manifest, 'format' | 'manifestVersion'>): Buffer {
  const body = JSON.stringify({ format: MANIFEST_NAME, manifestVersion: MANIFEST_VERSION, ...manifest });
  return Buffer.from(`${JSON.stringify({ manifest: JSON.parse(body), mac: box.manifestMac(body) }, null, 1)}\n`);
}

export type DecodedManifest =
  | { readable: true; manifest: Manifest }
  /** What could be read without trusting it (for listing), and why it cannot be used. */
  | { readable: false; reason: string; claimed: Partial<Manifest> };

/** Parses and authenticates a stored manifest. */
export function decodeManifest(box: SecretBox, bytes: Buffer): DecodedManifest {
  let parsed: { manifest?: unknown; mac?: unknown };
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { readable: false, reason: 'The manifest is not JSON', claimed: {} };
  }
  const manifest = parsed?.manifest as Partial<Manifest> | undefined;
  if (!manifest || typeof manifest !== 'object' || manifest.format !== MANIFEST_NAME)
    return { readable: false, reason: 'Not a backup manifest', claimed: {} };
  const body = JSON.stringify(manifest);
  if (typeof parsed.mac !== 'string' || !box.manifestMacMatches(body, parsed.mac))
    return {
      readable: false,
      reason:
        "The manifest's signature does not match this deployment's ENCRYPTION_KEY: it was written under another key (or changed since). Restore it in a deployment that has the key it was written with.",
      claimed: manifest,
    };
  if (manifest.manifestVersion !== MANIFEST_VERSION)
    return { readable: false, reason: `Unknown manifest version ${manifest.manifestVersion}`, claimed: manifest };
  return { readable: true, manifest: manifest as Manifest };
}
