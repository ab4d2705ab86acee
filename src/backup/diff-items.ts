import { createHash } from 'node:crypto';
import { itemData, parseLine, type Category } from './format.js';

/** One item of a backup (or of a live service) as a diff compares it: by name, field by field. */
export interface DiffItem {
  category: Category;
  name: string;
  /** Field name → digest of its value. */
  fields: Record<string, string>;
  digest: string;
}

const digestOf = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 32);

/** Fields that identify a row in one service only (ids), or repeat another field (a sealed secret beside its fingerprint). */
const IGNORED = new Set([
  'id',
  'lineageId',
  'sealed',
  'privateKeySealed',
  'partnerId',
  'hostProfileId',
  'guestProfileId',
  'agreementId',
]);

/**
 * Turns the lines of a backup into diff items, keeping only the names of partners, profiles and
 * agreements seen (references are compared by name: ids differ between services). Secrets are
 * compared by their fingerprint only.
 */
export function diffItems() {
  const names = {
    partner: new Map<string, string>(),
    profile: new Map<string, string>(),
    agreement: new Map<string, string>(),
  };
  const nameOf = (map: Map<string, string>, id: unknown) => map.get(String(id)) ?? `(unknown ${String(id)})`;
  return (line: string): DiffItem | null => {
    const parsed = parseLine(line);
    if (parsed.type !== 'item') return null;
    const { category } = parsed;
    const data = itemData(category, parsed.data) as Record<string, unknown>;
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(data)) if (!IGNORED.has(key)) values[key] = value;
    let name: string;
    switch (category) {
      case 'SERVICE_SETTINGS': {
        name = 'settings';
        delete values.secrets;
        for (const s of data.secrets as { kind: string; fingerprint: string }[]) values[s.kind] = s.fingerprint;
        break;
      }
      case 'SSL_CERTIFICATE':
        name = 'ssl certificate';
        delete values.updatedAt; // set again to the same certificate is no change
        break;
      case 'PARTNERS':
        name = String(data.name);
        names.partner.set(String(data.id), name);
        break;
      case 'PROFILES':
        name = String(data.name);
        names.profile.set(String(data.id), name);
        values.partner = nameOf(names.partner, data.partnerId);
        break;
      case 'AGREEMENTS':
        name = String(data.name);
        names.agreement.set(String(data.id), name);
        values.hostProfile = nameOf(names.profile, data.hostProfileId);
        values.guestProfile = nameOf(names.profile, data.guestProfileId);
        break;
      case 'X12_MAPPINGS':
        name = String(data.st01);
        break;
      case 'CONTROL_NUMBERS':
        name = nameOf(names.agreement, data.agreementId);
        break;
      case 'AS2_MIC_VALUES':
        name = `${nameOf(names.agreement, data.agreementId)}/${String(data.messageId)}`;
        break;
      default:
        name = String(data.name);
    }
    const fields = Object.fromEntries(
      Object.keys(values)
        .sort()
        .map((key) => [key, digestOf(JSON.stringify(values[key]) ?? 'null')]),
    );
    return { category, name, fields, digest: digestOf(JSON.stringify(fields)) };
  };
}

/** The fields whose digests differ between two versions of an item (or that only one has). */
export function changedFields(from: Record<string, string>, to: Record<string, string>): string[] {
  return [...new Set([...Object.keys(from), ...Object.keys(to)])].filter((key) => from[key] !== to[key]).sort();
}
