import type { App } from './app.js';

/**
 * A realistic demo environment, seeded through the API itself (so it obeys every rule): services
 * across editions and regions, partners, agreements on X12/EDIFACT/AS2, traffic with control
 * numbers, a schedule, backups, and a deleted service whose backup can be restored. Idempotent:
 * an environment that already has the demo services is left as it is. `secret` is an admin token.
 */
export async function seedDemo(app: App, secret: string): Promise<void> {
  // Each call says the shape of the reply it asked for.
  const call = async <T = unknown>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const response = await fetch(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown };
    if (body.errors) throw new Error(`demo seeding failed: ${JSON.stringify(body.errors)}`);
    const result = Object.values(body.data ?? {})[0] as { code?: string; message?: string } | null;
    if (result?.code) throw new Error(`demo seeding failed: ${result.code} ${result.message}`);
    return result as T;
  };
  if ((await call('query DemoSeeded { service(name: "contoso-prod") { id } }')) !== null) return;

  const create = async (kind: string, input: Record<string, unknown>, field: string) =>
    (
      await call<Record<string, { id: string }>>(
        `mutation DemoCreate${kind}($input: Create${kind}Input!) { create${kind}(input: $input) { __typename ... on Create${kind}Success { ${field} { id } } ... on Error { code message } } }`,
        { input },
      )
    )[field]!.id;
  const service = (name: string, edition: string, region: string, scaleUnitCount = 1) =>
    create('Service', { name, edition, region, scaleUnitCount }, 'service');
  const waitForBackup = async (id: string) => {
    for (let i = 0; i < 600; i++) {
      if (
        (await call<{ status: string }>('query DemoBackupStatus($id: ID!) { backup(id: $id) { status } }', { id }))
          .status === 'SUCCEEDED'
      )
        return;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const backup = async (serviceId: string, label: string) => {
    const id = (
      await call<{ backup: { id: string } }>(
        'mutation DemoCreateBackup($input: CreateBackupInput!) { createBackup(input: $input) { ... on CreateBackupSuccess { backup { id } } ... on Error { code message } } }',
        { input: { serviceId, label } },
      )
    ).backup.id;
    await waitForBackup(id);
  };

  const contoso = await service('contoso-prod', 'PREMIUM', 'westeurope', 2);
  await service('fabrikam-edi', 'STANDARD', 'eastus');
  await service('northwind-dev', 'DEVELOPER', 'westus');
  await call(
    'mutation DemoUpdateServiceSettings($input: UpdateServiceSettingsInput!) { updateServiceSettings(input: $input) { __typename } }',
    {
      input: {
        serviceId: contoso,
        acsNamespace: 'contoso-prod-acs',
        acsIssuerKey: 'demo-issuer-key-not-a-real-secret',
        trackingDatabaseConnectionString:
          'Server=tcp:contoso-tracking.database.windows.net;Database=tracking;User ID=demo;Password=demo',
        monitoringStorageConnectionString: 'DefaultEndpointsProtocol=https;AccountName=contosomon;AccountKey=ZGVtbw==',
        sslCertificate: { pfxBase64: Buffer.from('demo pfx').toString('base64'), password: 'demo' },
      },
    },
  );
  const partners: Record<string, string> = {};
  const profiles: Record<string, string> = {};
  for (const [name, identifier] of [
    ['Contoso', 'CONTOSO'],
    ['Fabrikam', 'FABRIKAM'],
    ['Northwind', 'NORTHWIND'],
  ] as const) {
    partners[name] = await create('Partner', { serviceId: contoso, name }, 'partner');
    profiles[name] = await create(
      'Profile',
      { partnerId: partners[name], name: `${name} EDI`, qualifier: 'ZZ', identifier },
      'profile',
    );
  }
  const agreement = (name: string, guest: string, protocol: string, extra: Record<string, unknown> = {}) =>
    create(
      'Agreement',
      {
        serviceId: contoso,
        name,
        hostProfileId: profiles.Contoso,
        guestProfileId: profiles[guest],
        protocol,
        ...extra,
      },
      'agreement',
    );
  const x12 = await agreement('Fabrikam purchase orders (X12)', 'Fabrikam', 'X12', {
    sourceFtpFolder: 'ftp://ftp.fabrikam.com/outbound/orders',
    batching: true,
  });
  const edifact = await agreement('Northwind invoices (EDIFACT)', 'Northwind', 'EDIFACT', {
    sourceFtpFolder: 'ftps://edi.northwind.example/invoices',
  });
  const as2 = await agreement('Fabrikam shipments (AS2)', 'Fabrikam', 'AS2');
  await create(
    'CustomAssembly',
    {
      serviceId: contoso,
      name: 'Contoso.Edi.Maps',
      version: '2.1.0.0',
      contentBase64: Buffer.from('MZ demo assembly').toString('base64'),
    },
    'customAssembly',
  );
  await create(
    'Bridge',
    {
      serviceId: contoso,
      name: 'OrdersInbound',
      kind: 'XML_ONE_WAY',
      relativeAddress: 'orders/inbound',
      config: { validate: true, enrich: ['partner'] },
    },
    'bridge',
  );
  await create(
    'Certificate',
    {
      serviceId: contoso,
      name: 'Fabrikam AS2 signing',
      contentBase64: Buffer.from('demo certificate').toString('base64'),
    },
    'certificate',
  );
  await create(
    'Transform',
    { serviceId: contoso, name: 'X12 850 to Order', mapContent: '<xsl:stylesheet version="1.0"/>' },
    'transform',
  );
  await create(
    'Pipeline',
    { serviceId: contoso, name: 'Validate and route', definition: '{"stages":["decode","validate","route"]}' },
    'pipeline',
  );
  await create(
    'Template',
    { serviceId: contoso, name: 'X12 trading partner', content: '{"protocol":"X12","qualifier":"ZZ"}' },
    'template',
  );
  for (const [st01, gs01] of [
    ['850', 'PO'],
    ['810', 'IN'],
    ['856', 'SH'],
  ])
    await create('X12Mapping', { serviceId: contoso, st01, gs01 }, 'x12Mapping');
  await create(
    'HybridConnection',
    { serviceId: contoso, name: 'onprem-erp', host: 'erp01.contoso.local', port: 1433 },
    'hybridConnection',
  );

  const send = (agreementId: string, payload: string) =>
    call(
      'mutation DemoProcessEdiMessage($input: ProcessEdiMessageInput!) { processEdiMessage(input: $input) { __typename } }',
      {
        input: { agreementId, payload },
      },
    );
  for (let i = 1; i <= 12; i++) await send(as2, `AS2 shipment notice ${i}`);
  for (let i = 1; i <= 8; i++) await send(edifact, `UNH+${i}+INVOIC:D:96A:UN'`);
  for (let i = 1; i <= 5; i++) await send(x12, `ST*850*${String(i).padStart(4, '0')}~`);
  await call('mutation DemoReleaseBatch($id: ID!) { releaseBatch(input: { agreementId: $id }) { __typename } }', {
    id: x12,
  });
  await call(
    'mutation DemoSetBackupSchedule($input: SetBackupScheduleInput!) { setBackupSchedule(input: $input) { __typename } }',
    {
      input: { serviceId: contoso, cron: '0 2 * * *', keepLast: 7, keepDays: 30 },
    },
  );
  await backup(contoso, 'Before the Q4 partner onboarding');
  for (let i = 13; i <= 15; i++) await send(as2, `AS2 shipment notice ${i}`);

  const legacy = await service('legacy-basic', 'BASIC', 'northeurope');
  await create('Partner', { serviceId: legacy, name: 'Tailspin' }, 'partner');
  await backup(legacy, 'Last backup before decommissioning');
  await call('mutation DemoDeleteService($id: ID!) { deleteService(input: { serviceId: $id }) { __typename } }', {
    id: legacy,
  });
}
