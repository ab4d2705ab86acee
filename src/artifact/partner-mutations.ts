// Trading partners: partners, their profiles, and the agreements between profiles.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { eq } from 'drizzle-orm';
import * as edi from '../edi/service.js';
import { LimitExceededError, NotFoundError } from '../errors.js';
import { builder } from '../graphql/builder.js';
import { defineMutation } from '../graphql/mutation.js';
import * as graphql from './graphql.js';
import { Service } from '../service/graphql.js';
import { createArtifact, defineDelete, definedOnly, errors, successFields, updateArtifact } from './mutation-kit.js';
import * as rules from './rules.js';
import * as ops from './service.js';
import { type agreements, profiles } from './tables.js';

// Partners and profiles
defineMutation('createPartner', {
  idempotent: true,
  description: 'Adds a trading partner to a service.',
  scope: 'operator',
  errors,
  input: (t) => ({
    serviceId: t.globalID({ for: Service, required: true, description: 'The service.' }),
    name: t.string({ required: true, description: 'Partner name, unique within the service.' }),
  }),
  resolve: async (input, ctx) => {
    rules.validateArtifactName(input.name, ['input', 'name']);
    const serviceId = input.serviceId.id;
    // One statement, audit entry included; with an idempotency key (no ctx.audit) its claim shares a transaction.
    return {
      row: ctx.audit
        ? await ops.createPartnerInOneStatement(ctx.runtime, serviceId, input.name, ctx.audit)
        : await createArtifact(ctx.runtime, ops.kinds.partner, serviceId, { name: input.name }),
    };
  },
  success: successFields('partner', graphql.Partner),
});
defineMutation('updatePartner', {
  description: 'Renames a trading partner.',
  scope: 'operator',
  errors,
  input: (t) => ({
    partnerId: t.globalID({ for: graphql.Partner, required: true, description: 'The partner.' }),
    name: t.string({ required: true, description: 'New name.' }),
  }),
  resolve: async (input, ctx) => {
    rules.validateArtifactName(input.name, ['input', 'name']);
    return {
      row: await updateArtifact(ctx.runtime, ops.kinds.partner, input.partnerId.id, () => ({ name: input.name })),
    };
  },
  success: successFields('partner', graphql.Partner),
});
defineDelete(ops.kinds.partner, 'partner', graphql.Partner, async (tx, row) => {
  const own = await tx
    .select({ id: profiles.id })
    .from(profiles)
    .where(eq(profiles.partnerId, row.id as string));
  await ops.assertProfilesUnused(
    tx,
    own.map((p) => p.id),
    `partner "${row.name}" (one of its profiles)`,
  );
});

defineMutation('createProfile', {
  idempotent: true,
  description: 'Adds a business profile (EDI identity) to a partner.',
  scope: 'operator',
  errors,
  input: (t) => ({
    partnerId: t.globalID({ for: graphql.Partner, required: true, description: 'The partner.' }),
    name: t.string({ required: true, description: 'Profile name, unique within the service.' }),
    qualifier: t.string({ required: true, description: 'ID qualifier, e.g. ZZ or 01.' }),
    identifier: t.string({
      required: true,
      description: 'Identifier; qualifier + identifier are unique within the service.',
    }),
  }),
  resolve: async (input, ctx) => {
    rules.validateArtifactName(input.name, ['input', 'name']);
    rules.validateProfileIdentity(input.qualifier, input.identifier);
    const partnerId = input.partnerId.id;
    const partner = await ctx.db.query.partners.findFirst({ where: { id: partnerId }, columns: { serviceId: true } });
    if (!partner) throw new NotFoundError('Partner', encodeGlobalID('Partner', partnerId));
    const { name, qualifier, identifier } = input;
    return {
      row: await createArtifact(ctx.runtime, ops.kinds.profile, partner.serviceId, {
        partnerId,
        name,
        qualifier,
        identifier,
      }),
    };
  },
  success: successFields('profile', graphql.Profile),
});
defineMutation('updateProfile', {
  description: "Changes a profile's name or EDI identity.",
  scope: 'operator',
  errors,
  input: (t) => ({
    profileId: t.globalID({ for: graphql.Profile, required: true, description: 'The profile.' }),
    name: t.string({ description: 'New name.' }),
    qualifier: t.string({ description: 'New ID qualifier.' }),
    identifier: t.string({ description: 'New identifier.' }),
  }),
  resolve: async (input, ctx) => {
    rules.refuseNulls(input, ['name', 'qualifier', 'identifier']);
    if (input.name != null) rules.validateArtifactName(input.name, ['input', 'name']);
    rules.validateProfileIdentity(input.qualifier ?? undefined, input.identifier ?? undefined);
    const values = definedOnly({
      name: input.name ?? undefined,
      qualifier: input.qualifier ?? undefined,
      identifier: input.identifier ?? undefined,
    });
    return { row: await updateArtifact(ctx.runtime, ops.kinds.profile, input.profileId.id, () => values) };
  },
  success: successFields('profile', graphql.Profile),
});
defineDelete(ops.kinds.profile, 'profile', graphql.Profile, (tx, row) =>
  ops.assertProfilesUnused(tx, [row.id as string], `profile "${row.name}"`),
);

// Agreements
const ControlNumbersInput = builder.inputType('ControlNumbersInput', {
  description: 'Last-issued control numbers to continue from (0–999999999); the next message gets each plus one.',
  fields: (t) => ({
    interchange: t.int({ required: true, description: 'Last interchange control number issued (ISA13 / UNB5).' }),
    group: t.int({ required: true, description: 'Last group control number issued (GS06 / UNG5).' }),
    transactionSet: t.int({ required: true, description: 'Last transaction set control number issued (ST02 / UNH1).' }),
  }),
});

defineMutation('createAgreement', {
  idempotent: true,
  description:
    'Creates an EDI/AS2 agreement between two profiles of the service. Counts one agreement and two bridges against the edition limits.',
  scope: 'operator',
  errors: [...errors, LimitExceededError],
  input: (t) => ({
    serviceId: t.globalID({ for: Service, required: true, description: 'The service.' }),
    name: t.string({ required: true, description: 'Agreement name, unique within the service.' }),
    hostProfileId: t.globalID({ for: graphql.Profile, required: true, description: 'Profile of the hosting partner.' }),
    guestProfileId: t.globalID({
      for: graphql.Profile,
      required: true,
      description: 'Profile of the guest partner (another partner).',
    }),
    protocol: t.field({ type: graphql.ProtocolEnum, required: true, description: 'X12, EDIFACT or AS2.' }),
    sourceFtpFolder: t.string({ description: 'ftp:// or ftps:// URL the inbound transport pulls from.' }),
    batching: t.boolean({ description: 'Hold outbound messages in a batch until released (default false).' }),
  }),
  resolve: async (input, ctx) => {
    rules.validateArtifactName(input.name, ['input', 'name']);
    if (input.sourceFtpFolder != null) rules.validateFtpFolder(input.sourceFtpFolder, ['input', 'sourceFtpFolder']);
    const serviceId = input.serviceId.id;
    const host = input.hostProfileId.id;
    const guest = input.guestProfileId.id;
    const row = await createArtifact(
      ctx.runtime,
      ops.kinds.agreement,
      serviceId,
      {
        name: input.name,
        hostProfileId: host,
        guestProfileId: guest,
        protocol: input.protocol,
        sourceFtpFolder: input.sourceFtpFolder ?? null,
        batching: input.batching ?? false,
      },
      {
        before: async (tx, service) => {
          await ops.assertAgreementProfiles(tx, service.id, host, guest);
          await ops.assertCapacity(tx, service, { agreements: 1 });
        },
        after: (tx, created: typeof agreements.$inferSelect) => edi.startControlNumbers(tx, created.id),
      },
    );
    return { row };
  },
  success: successFields('agreement', graphql.Agreement),
});
defineMutation('updateAgreement', {
  description:
    "Changes an agreement's name, source FTP folder (null removes it), batching, or the control numbers it continues from.",
  scope: 'operator',
  errors,
  input: (t) => ({
    agreementId: t.globalID({ for: graphql.Agreement, required: true, description: 'The agreement.' }),
    name: t.string({ description: 'New name.' }),
    sourceFtpFolder: t.string({ description: 'New source FTP folder URL; null removes it.' }),
    batching: t.boolean({ description: 'Turn batching on or off (off only while the batch is empty).' }),
    controlNumbers: t.field({
      type: ControlNumbersInput,
      description: 'Continue from these last-issued control numbers.',
    }),
  }),
  resolve: async (input, ctx) => {
    if (input.name != null) rules.validateArtifactName(input.name, ['input', 'name']);
    if (input.sourceFtpFolder != null) rules.validateFtpFolder(input.sourceFtpFolder, ['input', 'sourceFtpFolder']);
    const agreementId = input.agreementId.id;
    const values = definedOnly({
      name: input.name ?? undefined,
      sourceFtpFolder: input.sourceFtpFolder,
      batching: input.batching ?? undefined,
    });
    // One statement, audit entry included, unless the change must agree with the agreement's messages
    // (control numbers, a batch that must be empty): those lock the service and run in a transaction.
    if (ctx.audit && !input.controlNumbers && input.batching !== false)
      return { row: await ops.updateAgreementInOneStatement(ctx.runtime, agreementId, values, ctx.audit) };
    const row = await updateArtifact(ctx.runtime, ops.kinds.agreement, agreementId, async (current, tx) => {
      if (input.controlNumbers) await edi.setControlNumbers(tx, current, input.controlNumbers);
      if (input.batching === false && current.batching) await edi.assertBatchEmpty(tx, agreementId);
      return values;
    });
    return { row };
  },
  success: successFields('agreement', graphql.Agreement),
});
defineDelete(ops.kinds.agreement, 'agreement', graphql.Agreement, (tx, row) =>
  edi.assertBatchEmpty(tx, row.id as string),
);
