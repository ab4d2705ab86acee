import { createHash } from 'node:crypto';
import { LimitExceededError, ValidationError } from '../errors.js';
import { editionInfo, type Edition } from '../service/rules.js';

export const protocols = ['X12', 'EDIFACT', 'AS2'] as const;
export type Protocol = (typeof protocols)[number];

export const bridgeKinds = ['XML_ONE_WAY', 'XML_REQUEST_REPLY', 'PASS_THROUGH'] as const;

/** Largest custom assembly, certificate or text artifact accepted (decoded bytes). */
export const MAX_ASSEMBLY_BYTES = 4 * 1024 * 1024;
export const MAX_TEXT_BYTES = 1024 * 1024;
/** Largest certificate, private key or SSL PFX accepted (decoded bytes). */
export const MAX_CERTIFICATE_BYTES = 64 * 1024;

/** Artifact names: 1–100 visible characters, no leading or trailing space. */
export function validateArtifactName(name: string, path: string[]): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  if (name.length < 1 || name.length > 100 || name.trim() !== name || /[\u0000-\u001f]/.test(name)) {
    throw ValidationError.field(
      path,
      'must be 1 to 100 characters, without leading or trailing spaces or control characters',
    );
  }
}

export function validateText(value: string, path: string[], max = MAX_TEXT_BYTES): void {
  if (value.length === 0) throw ValidationError.field(path, 'must not be empty');
  if (Buffer.byteLength(value) > max) throw ValidationError.field(path, `must be at most ${max} bytes`);
}

/** Strict base64 of at most `max` decoded bytes. */
export function decodeBase64(value: string, path: string[], max: number): Buffer {
  if (value.length === 0 || value.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw ValidationError.field(path, 'must be non-empty base64');
  }
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length > max) throw ValidationError.field(path, `is ${bytes.length} bytes; the limit is ${max} bytes`);
  return bytes;
}

/** A source FTP folder: an ftp:// or ftps:// URL with a host. */
export function validateFtpFolder(value: string, path: string[]): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw ValidationError.field(path, 'must be an ftp:// or ftps:// URL, e.g. ftp://ftp.contoso.com/inbound');
  }
  if (!['ftp:', 'ftps:'].includes(url.protocol) || !url.hostname) {
    throw ValidationError.field(path, 'must be an ftp:// or ftps:// URL, e.g. ftp://ftp.contoso.com/inbound');
  }
  if (url.password) throw ValidationError.field(path, 'must not contain a password');
  return value;
}

/** A custom assembly's version: one to four dot-separated numbers, e.g. 1.0.0.0. */
export function validateAssemblyVersion(version: string, path: string[]): void {
  if (!/^\d+(\.\d+){0,3}$/.test(version)) throw ValidationError.field(path, 'must be a version such as 1.0.0.0');
}

export const MAX_BRIDGE_CONFIG_BYTES = 64 * 1024;

/** A bridge configuration, when given, is at most 64 KiB of JSON (null clears it). */
export function validateBridgeConfig(config: unknown, path: string[]): void {
  if (config !== undefined && JSON.stringify(config ?? null).length > MAX_BRIDGE_CONFIG_BYTES)
    throw ValidationError.field(path, 'must be at most 64 KiB of JSON');
}

/** A bridge's relative address: path segments of URL-safe characters, e.g. orders/inbound. */
export function validateRelativeAddress(value: string, path: string[]): void {
  if (value.length > 200 || !/^[A-Za-z0-9][A-Za-z0-9._~-]*(\/[A-Za-z0-9._~-]+)*$/.test(value)) {
    throw ValidationError.field(path, 'must be path segments of letters, digits and . _ ~ -, e.g. orders/inbound');
  }
}

export function validateHost(host: string, port: number): void {
  if (
    !/^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(
      host,
    )
  ) {
    throw ValidationError.field(['input', 'host'], 'must be a host name, e.g. sql01.contoso.local');
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw ValidationError.field(['input', 'port'], 'must be from 1 to 65535');
}

/** X12 transaction set identifiers (ST01) and the functional identifier codes (GS01) they belong to. */
export const x12TransactionSets: Record<string, string> = {
  '204': 'SM',
  '210': 'IM',
  '214': 'QM',
  '270': 'HS',
  '271': 'HB',
  '276': 'HR',
  '277': 'HN',
  '810': 'IN',
  '812': 'CD',
  '820': 'RA',
  '824': 'AG',
  '830': 'PS',
  '834': 'BE',
  '835': 'HP',
  '837': 'HC',
  '846': 'IB',
  '850': 'PO',
  '852': 'PD',
  '855': 'PR',
  '856': 'SH',
  '860': 'PC',
  '861': 'RC',
  '862': 'SS',
  '864': 'TX',
  '865': 'CA',
  '940': 'OW',
  '943': 'AR',
  '944': 'RE',
  '945': 'SW',
  '947': 'AW',
  '997': 'FA',
  '999': 'FA',
};
const functionalIds = new Set(Object.values(x12TransactionSets));

export function validateX12Mapping(st01: string | undefined, gs01: string | undefined): void {
  if (st01 !== undefined && !(st01 in x12TransactionSets)) {
    throw ValidationError.field(
      ['input', 'st01'],
      `"${st01}" is not a known X12 transaction set id (e.g. 850, 810, 856)`,
    );
  }
  if (gs01 !== undefined && !functionalIds.has(gs01)) {
    throw ValidationError.field(
      ['input', 'gs01'],
      `"${gs01}" is not a known X12 functional identifier code (e.g. PO, IN, SH)`,
    );
  }
}

/** ID qualifiers of EDI profiles (ISA05/ISA07 and UNB partner id qualifiers), e.g. ZZ (mutually defined). */
/** Fields an update may leave out (kept as they are) but not set to null: a profile has a name and an identity. */
export function refuseNulls(input: Record<string, unknown>, fields: string[]): void {
  const nulls = fields.filter((field) => input[field] === null);
  if (nulls.length) {
    throw new ValidationError(
      nulls.map((field) => ({ path: ['input', field], message: 'may not be null; leave it out to keep it' })),
    );
  }
}

export function validateProfileIdentity(qualifier: string | undefined, identifier: string | undefined): void {
  if (qualifier !== undefined && !/^[A-Z0-9]{1,4}$/.test(qualifier)) {
    throw ValidationError.field(['input', 'qualifier'], 'must be 1 to 4 uppercase letters or digits, e.g. ZZ or 01');
  }
  if (identifier !== undefined && !/^[\x21-\x7e]([\x20-\x7e]{0,33}[\x21-\x7e])?$/.test(identifier)) {
    throw ValidationError.field(['input', 'identifier'], 'must be 1 to 35 printable characters');
  }
}

/** SHA-1 of the certificate's bytes, as Windows shows a thumbprint. */
export function thumbprint(content: Buffer): string {
  return createHash('sha1').update(content).digest('hex').toUpperCase();
}

export interface Usage {
  agreements: number;
  bridges: number;
  hybridConnections: number;
}

/** What an edition at a unit count allows; an agreement uses two bridges (send and receive side). */
export function capacity(edition: Edition, units: number): Usage {
  const info = editionInfo(edition);
  return {
    agreements: info.agreementsPerUnit * units,
    bridges: info.bridgesPerUnit * units,
    hybridConnections: info.hybridConnectionsPerUnit * units,
  };
}

/** Throws LIMIT_EXCEEDED when `usage` does not fit the edition at `units`. */
export function assertWithinLimits(edition: Edition, units: number, usage: Usage): void {
  const max = capacity(edition, units);
  const check = (limit: string, used: number, allowed: number, what: string) => {
    if (used > allowed) {
      throw new LimitExceededError(
        `${edition} at ${units} unit(s) allows ${allowed} ${what}; this needs ${used}`,
        limit,
        allowed,
      );
    }
  };
  check('agreements', usage.agreements, max.agreements, 'agreements');
  check('bridges', usage.bridges + 2 * usage.agreements, max.bridges, 'bridges (each agreement counts two)');
  check('hybridConnections', usage.hybridConnections, max.hybridConnections, 'hybrid connections');
}
