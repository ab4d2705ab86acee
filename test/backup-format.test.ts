import { describe, expect, it } from 'vitest';
import { DamagedContentError, isContentDamage } from '../src/backup/content.js';
import {
  FORMAT_VERSION,
  categoryOrder,
  encodeHeader,
  encodeItem,
  encodeRow,
  isBinary,
  itemData,
  parseLine,
  type Category,
  type ItemData,
} from '../src/backup/format.js';

const PARTNER = '5e830b13-1872-4570-a94d-10fc67498ca1';
const AGREEMENT = '0b7f7a5e-3c1e-4d8e-9f4a-2a6a3f1d9c11';
const at = '2026-12-01T02:55:45.643Z';

/** One item of every category: the compiler asks for one more when a category is added. */
const samples: { [C in Category]: ItemData<C> } = {
  SERVICE_SETTINGS: {
    edition: 'PREMIUM',
    scaleUnitCount: 2,
    productVersion: '1.0',
    region: 'westeurope',
    acsNamespace: null,
    secrets: [
      {
        kind: 'ARCHIVING_STORAGE_CONNECTION_STRING',
        sealed: 'v1:a:b:c',
        fingerprint: 'hmac-sha256:1b0c',
        updatedAt: at,
      },
    ],
  },
  SSL_CERTIFICATE: { sealed: 'v1:d:e:f', fingerprint: 'hmac-sha256:fb7c', updatedAt: at },
  PARTNERS: { id: PARTNER, name: 'Contoso "EU"' },
  PROFILES: { id: 'f1', partnerId: PARTNER, name: 'Contoso AS2', qualifier: 'ZZ', identifier: 'CONTOSO' },
  AGREEMENTS: {
    id: AGREEMENT,
    name: 'Contoso-Fabrikam X12',
    hostProfileId: 'p1',
    guestProfileId: 'p2',
    protocol: 'X12',
    sourceFtpFolder: null,
    batching: true,
    lineageId: 'l1',
  },
  CUSTOM_ASSEMBLIES: {
    id: 'a1',
    name: 'Contoso.Maps',
    version: '1.0.0.0',
    content: Buffer.from('MZ assembly').toString('base64'),
    sizeBytes: 11,
    sha256: 'ab',
  },
  BRIDGES: {
    id: 'b1',
    name: 'orders',
    kind: 'XML_ONE_WAY',
    relativeAddress: 'orders',
    config: { retries: 3, tags: ['ü', '\n'] },
  },
  CERTIFICATES: {
    id: 'c1',
    name: 'partner',
    thumbprint: 'AB12',
    content: 'AAEC',
    privateKeySealed: null,
    privateKeyFingerprint: null,
  },
  TRANSFORMS: { id: 't1', name: 'map', mapContent: '<map/>' },
  PIPELINES: { id: 'pl1', name: 'pipeline', definition: '{"stages":[]}' },
  TEMPLATES: { id: 'tp1', name: 'template', content: 'line 1\nline 2' },
  X12_MAPPINGS: { id: 'x1', st01: '850', gs01: 'PO' },
  CONTROL_NUMBERS: { agreementId: AGREEMENT, interchange: 3, group: 2, transactionSet: 1 },
  AS2_MIC_VALUES: {
    agreementId: AGREEMENT,
    messageId: '<m1@contoso>',
    algorithm: 'sha256',
    value: 'mic',
    createdAt: at,
  },
};

/** Lines exactly as the snapshot wrote them before this module existed: they must read, and be written again the same. */
const writtenBefore = [
  '{"type":"item","category":"SERVICE_SETTINGS","data":{"edition":"PREMIUM","scaleUnitCount":1,"productVersion":"1.0","region":"westeurope","acsNamespace":"contoso","secrets":[{"kind":"ACS_ISSUER_KEY","sealed":"v1:27KrB0ic7kXvtDW5:20Yyf0PPl1QES7vn7GwMsw==:Vw==","fingerprint":"hmac-sha256:b5512ceba34e319d","updatedAt":"2026-12-01T02:55:45.643Z"},{"kind":"ARCHIVING_STORAGE_CONNECTION_STRING","sealed":"v1:HQhKQn5xLGAsPhzy:jtXQ2TKsv/dzVPJfcGL5TA==:vxoJ","fingerprint":"hmac-sha256:1b0c6d7cd0b81326","updatedAt":"2026-12-01T02:55:45.643Z"}]}}',
  '{"type":"item","category":"SSL_CERTIFICATE","data":{"sealed":"v1:G9ap0pwjLu4Ao7vH:X8bATIxfAC8XVQ8j/f9+uA==:GjJAzCZf3V+ub6CpKnjqb1tyGzeCueGBIfiun1pfOue41g7r","fingerprint":"hmac-sha256:fb7c8ba40795d223","updatedAt":"2026-12-01T02:55:45.643Z"}}',
  '{"type":"item","category":"PARTNERS","data":{"id":"5e830b13-1872-4570-a94d-10fc67498ca1","name":"Contoso"}}',
  '{"type":"item","category":"AGREEMENTS","data":{"id":"0b7f7a5e-3c1e-4d8e-9f4a-2a6a3f1d9c11","name":"Contoso-Fabrikam AS2","hostProfileId":"7d1c2f0e-5a8b-4c3d-9e2f-1a0b9c8d7e6f","guestProfileId":"8e2d3f1a-6b9c-4d4e-8f3a-2b1c0d9e8f7a","protocol":"AS2","sourceFtpFolder":"contoso/in","batching":false,"lineageId":"9f3e4a2b-7c0d-4e5f-9a4b-3c2d1e0f9a8b"}}',
  '{"type":"item","category":"CUSTOM_ASSEMBLIES","data":{"id":"1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d","name":"Contoso.Maps","version":"1.0.0.0","content":"TVogYXNzZW1ibHk=","sizeBytes":11,"sha256":"0d5f"}}',
  '{"type":"item","category":"CONTROL_NUMBERS","data":{"agreementId":"0b7f7a5e-3c1e-4d8e-9f4a-2a6a3f1d9c11","interchange":3,"group":3,"transactionSet":3}}',
  '{"type":"item","category":"AS2_MIC_VALUES","data":{"agreementId":"0b7f7a5e-3c1e-4d8e-9f4a-2a6a3f1d9c11","messageId":"<m1@contoso>","algorithm":"sha256","value":"q83v","createdAt":"2026-12-01T02:55:45.700Z"}}',
];

function damage(read: () => unknown): DamagedContentError {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(DamagedContentError);
    expect(isContentDamage(error)).toBe(true);
    return error as DamagedContentError;
  }
  throw new Error('expected the line to be refused as damaged content');
}

describe('the backup format', () => {
  it('lists the categories in backup order, the binary ones marked', () => {
    expect(categoryOrder).toEqual([
      'SERVICE_SETTINGS',
      'SSL_CERTIFICATE',
      'PARTNERS',
      'PROFILES',
      'AGREEMENTS',
      'CUSTOM_ASSEMBLIES',
      'BRIDGES',
      'CERTIFICATES',
      'TRANSFORMS',
      'PIPELINES',
      'TEMPLATES',
      'X12_MAPPINGS',
      'CONTROL_NUMBERS',
      'AS2_MIC_VALUES',
    ]);
    expect(categoryOrder.filter(isBinary)).toEqual(['CUSTOM_ASSEMBLIES', 'CERTIFICATES']);
  });

  it('reads back every category it writes: the data as JSON text, and parsed', () => {
    for (const category of categoryOrder) {
      const line = encodeItem(category, samples[category]);
      const read = parseLine(line);
      expect(read).toEqual({ type: 'item', category, data: JSON.stringify(samples[category]) });
      if (read.type !== 'item') throw new Error('not an item');
      expect(itemData(category, read.data)).toEqual(samples[category]);
    }
  });

  it('writes a row read from the database with its timestamps as ISO text and its binary content as base64', () => {
    const row = {
      id: 'a1',
      name: 'Contoso.Maps',
      version: '1.0.0.0',
      content: Buffer.from('MZ assembly'),
      sizeBytes: 11,
      sha256: 'ab',
    };
    expect(encodeRow('CUSTOM_ASSEMBLIES', row)).toBe(
      '{"type":"item","category":"CUSTOM_ASSEMBLIES","data":{"id":"a1","name":"Contoso.Maps","version":"1.0.0.0","content":"TVogYXNzZW1ibHk=","sizeBytes":11,"sha256":"ab"}}',
    );
    expect(
      encodeRow('AS2_MIC_VALUES', {
        agreementId: AGREEMENT,
        messageId: 'm',
        algorithm: 'sha256',
        value: 'v',
        createdAt: new Date(at),
      }),
    ).toBe(
      `{"type":"item","category":"AS2_MIC_VALUES","data":{"agreementId":"${AGREEMENT}","messageId":"m","algorithm":"sha256","value":"v","createdAt":"${at}"}}`,
    );
  });

  it('reads the lines backups already hold, and writes the same data to the same bytes', () => {
    for (const line of writtenBefore) {
      const read = parseLine(line);
      if (read.type !== 'item') throw new Error('not an item');
      expect(line).toBe(`{"type":"item","category":"${read.category}","data":${read.data}}`);
      const data = itemData(read.category, read.data);
      expect(encodeItem(read.category, data)).toBe(line);
    }
    const agreement = parseLine(writtenBefore[3]!);
    if (agreement.type !== 'item' || agreement.category !== 'AGREEMENTS') throw new Error('not an agreement');
    expect(itemData('AGREEMENTS', agreement.data)).toMatchObject({
      name: 'Contoso-Fabrikam AS2',
      sourceFtpFolder: 'contoso/in',
      lineageId: '9f3e4a2b-7c0d-4e5f-9a4b-3c2d1e0f9a8b',
    });
    const settings = parseLine(writtenBefore[0]!);
    if (settings.type !== 'item') throw new Error('not an item');
    expect(itemData('SERVICE_SETTINGS', settings.data).secrets.map((s) => s.kind)).toEqual([
      'ACS_ISSUER_KEY',
      'ARCHIVING_STORAGE_CONNECTION_STRING',
    ]);
  });

  it('writes and reads the header as it always was', () => {
    const line = encodeHeader(
      { id: 'bb0e76b1-74c0-4938-a400-6261ca0d2403', name: 'compare-me', edition: 'PREMIUM', region: 'westeurope' },
      new Date(at),
    );
    expect(line).toBe(
      '{"type":"header","format":"biztalk-backup","version":1,"service":{"id":"bb0e76b1-74c0-4938-a400-6261ca0d2403","name":"compare-me","edition":"PREMIUM","region":"westeurope"},"takenAt":"2026-12-01T02:55:45.643Z"}',
    );
    expect(parseLine(line)).toEqual({ type: 'header', header: JSON.parse(line) });
    expect(FORMAT_VERSION).toBe(1);
  });

  it('refuses, as damaged content, an unknown category and a line it cannot have written', () => {
    expect(damage(() => parseLine('{"type":"item","category":"HYBRID_CONNECTIONS","data":{"id":"h1"}}')).message).toBe(
      'backup content: an item of unknown category "HYBRID_CONNECTIONS"',
    );
    damage(() => parseLine('{"type":"item","category":"__proto__","data":{}}'));
    damage(() => parseLine('{"type":"item","category":"PARTNERS","data":')); // cut short
    damage(() => parseLine('{"type":"item","category":"PARTNERS"}'));
    damage(() => parseLine('{"type":"item","category":"PARTNERS","data":{"id":"p1"},"more":1]'));
    damage(() => parseLine('{"category":"PARTNERS","type":"item","data":{"id":"p1"}}')); // not as this module writes it
    damage(() => parseLine('{"type":"manifest"}'));
    damage(() => parseLine('{"type":"header","format":"another-format","version":1,"service":{},"takenAt":"x"}'));
    damage(() => parseLine('not json'));
    damage(() => parseLine(''));
    damage(() => itemData('PARTNERS', '{"id":'));
    damage(() => itemData('PARTNERS', '[1,2]'));
    damage(() => itemData('SERVICE_SETTINGS', '{"edition":"PREMIUM"}'));
  });
});
