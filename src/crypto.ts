import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/**
 * The only place that touches keys. Secrets are sealed with AES-256-GCM under a key derived from
 * ENCRYPTION_KEY; fingerprints are keyed (HMAC) so that a fingerprint cannot be used to guess a
 * short secret offline.
 */
export interface SecretBox {
  seal(plaintext: string | Buffer): string;
  open(sealed: string): Buffer;
  fingerprint(plaintext: string | Buffer): string;
  /** Binary sealing for backup chunks: iv | tag | ciphertext, bound to `context` (e.g. backup id and chunk number). */
  sealBytes(data: Buffer, context: string): Buffer;
  openBytes(sealed: Buffer, context: string): Buffer;
  /** HMAC-SHA256 (hex) that authenticates a backup's manifest in a store: only this key can make it. */
  manifestMac(text: string): string;
  /** Whether `mac` is the manifest MAC of `text` under this key. */
  manifestMacMatches(text: string, mac: string): boolean;
}

const FORMAT = 'v1';

function derive(key: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `biztalk-backup/${purpose}`, 32));
}

export function createSecretBox(masterKey: Buffer): SecretBox {
  const encryptionKey = derive(masterKey, 'secrets');
  const fingerprintKey = derive(masterKey, 'fingerprint');
  const backupKey = derive(masterKey, 'backups');
  const manifestKey = derive(masterKey, 'backup-manifest');
  const manifestMac = (text: string) => createHmac('sha256', manifestKey).update(text).digest('hex');
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv);
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return [FORMAT, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
    },
    open(sealed) {
      const [format, iv, tag, body] = sealed.split(':');
      if (format !== FORMAT || !iv || !tag || body === undefined)
        throw new Error('sealed secret has an unknown format');
      const decipher = createDecipheriv('aes-256-gcm', encryptionKey, Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]);
    },
    sealBytes(data, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', backupKey, iv);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(data), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    openBytes(sealed, context) {
      const decipher = createDecipheriv('aes-256-gcm', backupKey, sealed.subarray(0, 12));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(sealed.subarray(12, 28));
      return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
    },
    manifestMac,
    manifestMacMatches(text, mac) {
      return /^[0-9a-f]{64}$/.test(mac) && sameHash(manifestMac(text), mac);
    },
    fingerprint(plaintext) {
      return `hmac-sha256:${createHmac('sha256', fingerprintKey).update(plaintext).digest('hex').slice(0, 16)}`;
    },
  };
}

/** API tokens are long random strings, so a plain SHA-256 is a safe way to store them. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function generateToken(): string {
  return `btb_${randomBytes(32).toString('base64url')}`;
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
