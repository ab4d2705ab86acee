// Deployed artifacts: custom assemblies, bridges, certificates, transforms, pipelines, templates,
// X12 mappings and hybrid connections.
import { createHash } from 'node:crypto';
import type { ObjectRef } from '@pothos/core';
import type { Types } from '../graphql/builder.js';
import { LimitExceededError } from '../errors.js';
import { defineMutation } from '../graphql/mutation.js';
import * as graphql from './graphql.js';
import { Service } from '../service/graphql.js';
import {
  createArtifact,
  defineDelete,
  definedOnly,
  errors,
  idAt,
  successFields,
  textAt,
  updateArtifact,
  type RowOf,
} from './mutation-kit.js';
import * as rules from './rules.js';
import * as ops from './service.js';

// Custom assemblies
defineMutation('createCustomAssembly', {
  idempotent: true,
  description: `Deploys a custom assembly (at most ${rules.MAX_ASSEMBLY_BYTES} bytes).`,
  scope: 'operator',
  errors,
  input: (t) => ({
    serviceId: t.globalID({ for: Service, required: true, description: 'The service.' }),
    name: t.string({ required: true, description: 'Assembly name, unique within the service.' }),
    version: t.string({ required: true, description: 'Assembly version, e.g. 1.0.0.0.' }),
    contentBase64: t.string({ required: true, description: 'The binary, base64-encoded.' }),
  }),
  resolve: async (input, ctx) => {
    rules.validateArtifactName(input.name, ['input', 'name']);
    rules.validateAssemblyVersion(input.version, ['input', 'version']);
    return {
      row: await createArtifact(ctx.runtime, ops.kinds.customAssembly, input.serviceId.id, {
        name: input.name,
        version: input.version,
        ...assemblyContent(input.contentBase64),
      }),
    };
  },
  success: successFields('customAssembly', graphql.CustomAssembly),
});
defineMutation('updateCustomAssembly', {
  description: 'Deploys a new version of a custom assembly.',
  scope: 'operator',
  errors,
  input: (t) => ({
    customAssemblyId: t.globalID({ for: graphql.CustomAssembly, required: true, description: 'The assembly.' }),
    version: t.string({ description: 'New version.' }),
    contentBase64: t.string({ description: 'New binary, base64-encoded.' }),
  }),
  resolve: async (input, ctx) => {
    if (input.version != null) rules.validateAssemblyVersion(input.version, ['input', 'version']);
    const values = {
      ...definedOnly({ version: input.version ?? undefined }),
      ...(input.contentBase64 != null ? assemblyContent(input.contentBase64) : {}),
    };
    return {
      row: await updateArtifact(ctx.runtime, ops.kinds.customAssembly, input.customAssemblyId.id, () => values),
    };
  },
  success: successFields('customAssembly', graphql.CustomAssembly),
});
defineDelete(ops.kinds.customAssembly, 'customAssembly', graphql.CustomAssembly);

// Bridges
defineMutation('createBridge', {
  idempotent: true,
  description: 'Deploys an EAI bridge (counts against the edition bridge limit, like two per agreement).',
  scope: 'operator',
  errors: [...errors, LimitExceededError],
  input: (t) => ({
    serviceId: t.globalID({ for: Service, required: true, description: 'The service.' }),
    name: t.string({ required: true, description: 'Bridge name, unique within the service.' }),
    kind: t.field({ type: graphql.BridgeKindEnum, required: true, description: 'Kind of bridge.' }),
    relativeAddress: t.string({
      required: true,
      description: 'Address relative to the service endpoint, e.g. orders/inbound.',
    }),
    config: t.field({ type: 'JSON', description: 'Bridge configuration (JSON, at most 64 KiB).' }),
  }),
  resolve: async (input, ctx) => {
    rules.validateArtifactName(input.name, ['input', 'name']);
    rules.validateRelativeAddress(input.relativeAddress, ['input', 'relativeAddress']);
    rules.validateBridgeConfig(input.config, ['input', 'config']);
    const values = {
      name: input.name,
      kind: input.kind,
      relativeAddress: input.relativeAddress,
      config: input.config ?? null,
    };
    return {
      row: await createArtifact(ctx.runtime, ops.kinds.bridge, input.serviceId.id, values, {
        before: (tx, service) => ops.assertCapacity(tx, service, { bridges: 1 }),
      }),
    };
  },
  success: successFields('bridge', graphql.Bridge),
});
defineMutation('updateBridge', {
  description: "Changes a bridge's name, address or configuration.",
  scope: 'operator',
  errors,
  input: (t) => ({
    bridgeId: t.globalID({ for: graphql.Bridge, required: true, description: 'The bridge.' }),
    name: t.string({ description: 'New name.' }),
    relativeAddress: t.string({ description: 'New relative address.' }),
    config: t.field({ type: 'JSON', description: 'New configuration.' }),
  }),
  resolve: async (input, ctx) => {
    if (input.name != null) rules.validateArtifactName(input.name, ['input', 'name']);
    if (input.relativeAddress != null)
      rules.validateRelativeAddress(input.relativeAddress, ['input', 'relativeAddress']);
    rules.validateBridgeConfig(input.config, ['input', 'config']);
    const values = definedOnly({
      name: input.name ?? undefined,
      relativeAddress: input.relativeAddress ?? undefined,
      config: input.config,
    });
    return { row: await updateArtifact(ctx.runtime, ops.kinds.bridge, input.bridgeId.id, () => values) };
  },
  success: successFields('bridge', graphql.Bridge),
});
defineDelete(ops.kinds.bridge, 'bridge', graphql.Bridge);

// Certificates
defineMutation('createCertificate', {
  idempotent: true,
  description:
    'Uploads a certificate; its thumbprint is computed from the content; an optional private key is kept encrypted.',
  scope: 'operator',
  errors,
  input: (t) => ({
    serviceId: t.globalID({ for: Service, required: true, description: 'The service.' }),
    name: t.string({ required: true, description: 'Certificate name, unique within the service.' }),
    contentBase64: t.string({ required: true, description: 'The certificate (DER or PEM bytes), base64-encoded.' }),
    privateKeyBase64: t.string({ description: 'The private key, base64-encoded (secret).' }),
  }),
  resolve: async (input, ctx) => {
    rules.validateArtifactName(input.name, ['input', 'name']);
    const values = {
      name: input.name,
      ...certificateContent(input.contentBase64),
      ...privateKey(ctx.runtime, input.privateKeyBase64),
    };
    return { row: await createArtifact(ctx.runtime, ops.kinds.certificate, input.serviceId.id, values) };
  },
  success: successFields('certificate', graphql.Certificate),
});
defineMutation('updateCertificate', {
  description: 'Renews or renames a certificate; privateKeyBase64 null removes the private key.',
  scope: 'operator',
  errors,
  input: (t) => ({
    certificateId: t.globalID({ for: graphql.Certificate, required: true, description: 'The certificate.' }),
    name: t.string({ description: 'New name.' }),
    contentBase64: t.string({ description: 'New certificate bytes, base64-encoded.' }),
    privateKeyBase64: t.string({ description: 'New private key (secret); null removes it.' }),
  }),
  resolve: async (input, ctx) => {
    if (input.name != null) rules.validateArtifactName(input.name, ['input', 'name']);
    const values = {
      ...definedOnly({ name: input.name ?? undefined }),
      ...(input.contentBase64 != null ? certificateContent(input.contentBase64) : {}),
      ...(input.privateKeyBase64 !== undefined ? privateKey(ctx.runtime, input.privateKeyBase64) : {}),
    };
    return { row: await updateArtifact(ctx.runtime, ops.kinds.certificate, input.certificateId.id, () => values) };
  },
  success: successFields('certificate', graphql.Certificate),
});
defineDelete(ops.kinds.certificate, 'certificate', graphql.Certificate);

// Transforms, pipelines and templates: a name and one text
/** What a drizzle object type may also be handed: a selection still to load. */
type DrizzleSelection = { $pothosQueryFor: string | undefined };
type TextKind = typeof ops.kinds.transform | typeof ops.kinds.pipeline | typeof ops.kinds.template;
function textArtifactMutations<K extends TextKind>(
  kind: K,
  field: string,
  type: ObjectRef<Types, RowOf<K> | DrizzleSelection>,
  textField: string,
  textDescription: string,
) {
  defineMutation(`create${kind.typename}`, {
    idempotent: true,
    description: `Adds a ${kind.label} to a service.`,
    scope: 'operator',
    errors,
    input: (t) => ({
      serviceId: t.globalID({ for: Service, required: true, description: 'The service.' }),
      name: t.string({ required: true, description: 'Name, unique within the service.' }),
      [textField]: t.string({ required: true, description: textDescription }),
    }),
    resolve: async (input, ctx) => {
      const name = textAt(input, 'name') ?? '';
      const text = textAt(input, textField) ?? '';
      rules.validateArtifactName(name, ['input', 'name']);
      rules.validateText(text, ['input', textField]);
      return { row: await createArtifact(ctx.runtime, kind, idAt(input, 'serviceId'), { name, [textField]: text }) };
    },
    success: successFields(field, type),
  });
  defineMutation(`update${kind.typename}`, {
    description: `Changes a ${kind.label}.`,
    scope: 'operator',
    errors,
    input: (t) => ({
      [`${field}Id`]: t.globalID({ for: type, required: true, description: `The ${kind.label}.` }),
      name: t.string({ description: 'New name.' }),
      [textField]: t.string({ description: textDescription }),
    }),
    resolve: async (input, ctx) => {
      const name = textAt(input, 'name');
      const text = textAt(input, textField);
      if (name != null) rules.validateArtifactName(name, ['input', 'name']);
      if (text != null) rules.validateText(text, ['input', textField]);
      const values = definedOnly({ name: name ?? undefined, [textField]: text ?? undefined });
      return { row: await updateArtifact(ctx.runtime, kind, idAt(input, `${field}Id`), () => values) };
    },
    success: successFields(field, type),
  });
  defineDelete(kind, field, type);
}
textArtifactMutations(ops.kinds.transform, 'transform', graphql.Transform, 'mapContent', 'The map content.');
textArtifactMutations(ops.kinds.pipeline, 'pipeline', graphql.Pipeline, 'definition', 'The pipeline definition.');
textArtifactMutations(ops.kinds.template, 'template', graphql.Template, 'content', 'The template content.');

// X12 mappings
defineMutation('createX12Mapping', {
  idempotent: true,
  description: 'Maps an X12 transaction set id (ST01) to a functional identifier code (GS01), e.g. 850 → PO.',
  scope: 'operator',
  errors,
  input: (t) => ({
    serviceId: t.globalID({ for: Service, required: true, description: 'The service.' }),
    st01: t.string({ required: true, description: 'Transaction set id, e.g. 850.' }),
    gs01: t.string({ required: true, description: 'Functional identifier code, e.g. PO.' }),
  }),
  resolve: async (input, ctx) => {
    rules.validateX12Mapping(input.st01, input.gs01);
    return {
      row: await createArtifact(ctx.runtime, ops.kinds.x12Mapping, input.serviceId.id, {
        st01: input.st01,
        gs01: input.gs01,
      }),
    };
  },
  success: successFields('x12Mapping', graphql.X12Mapping),
});
defineMutation('updateX12Mapping', {
  description: 'Changes the GS01 code an ST01 maps to.',
  scope: 'operator',
  errors,
  input: (t) => ({
    x12MappingId: t.globalID({ for: graphql.X12Mapping, required: true, description: 'The mapping.' }),
    gs01: t.string({ required: true, description: 'New functional identifier code.' }),
  }),
  resolve: async (input, ctx) => {
    rules.validateX12Mapping(undefined, input.gs01);
    return {
      row: await updateArtifact(ctx.runtime, ops.kinds.x12Mapping, input.x12MappingId.id, () => ({ gs01: input.gs01 })),
    };
  },
  success: successFields('x12Mapping', graphql.X12Mapping),
});
defineDelete(ops.kinds.x12Mapping, 'x12Mapping', graphql.X12Mapping);

// Hybrid connections
defineMutation('createHybridConnection', {
  idempotent: true,
  description: 'Adds a hybrid connection (never backed up; recreate it after a restore).',
  scope: 'operator',
  errors: [...errors, LimitExceededError],
  input: (t) => ({
    serviceId: t.globalID({ for: Service, required: true, description: 'The service.' }),
    name: t.string({ required: true, description: 'Name, unique within the service.' }),
    host: t.string({ required: true, description: 'On-premises host name.' }),
    port: t.int({ required: true, description: 'TCP port.' }),
  }),
  resolve: async (input, ctx) => {
    rules.validateArtifactName(input.name, ['input', 'name']);
    rules.validateHost(input.host, input.port);
    const values = { name: input.name, host: input.host, port: input.port };
    return {
      row: await createArtifact(ctx.runtime, ops.kinds.hybridConnection, input.serviceId.id, values, {
        before: (tx, service) => ops.assertCapacity(tx, service, { hybridConnections: 1 }),
      }),
    };
  },
  success: successFields('hybridConnection', graphql.HybridConnection),
});
defineMutation('updateHybridConnection', {
  description: 'Changes a hybrid connection.',
  scope: 'operator',
  errors,
  input: (t) => ({
    hybridConnectionId: t.globalID({
      for: graphql.HybridConnection,
      required: true,
      description: 'The hybrid connection.',
    }),
    name: t.string({ description: 'New name.' }),
    host: t.string({ description: 'New host.' }),
    port: t.int({ description: 'New port.' }),
  }),
  resolve: async (input, ctx) => {
    if (input.name != null) rules.validateArtifactName(input.name, ['input', 'name']);
    const row = await updateArtifact(
      ctx.runtime,
      ops.kinds.hybridConnection,
      input.hybridConnectionId.id,
      (current) => {
        rules.validateHost(input.host ?? current.host, input.port ?? current.port);
        return definedOnly({
          name: input.name ?? undefined,
          host: input.host ?? undefined,
          port: input.port ?? undefined,
        });
      },
    );
    return { row };
  },
  success: successFields('hybridConnection', graphql.HybridConnection),
});
defineDelete(ops.kinds.hybridConnection, 'hybridConnection', graphql.HybridConnection);

function assemblyContent(base64: string) {
  const content = rules.decodeBase64(base64, ['input', 'contentBase64'], rules.MAX_ASSEMBLY_BYTES);
  return { content, sizeBytes: content.length, sha256: createHash('sha256').update(content).digest('hex') };
}

function certificateContent(base64: string) {
  const content = rules.decodeBase64(base64, ['input', 'contentBase64'], rules.MAX_CERTIFICATE_BYTES);
  return { content, thumbprint: rules.thumbprint(content) };
}

function privateKey(
  rt: { secrets: { seal(v: Buffer): string; fingerprint(v: Buffer): string } },
  base64: string | null | undefined,
) {
  if (base64 == null) return { privateKeySealed: null, privateKeyFingerprint: null };
  const key = rules.decodeBase64(base64, ['input', 'privateKeyBase64'], rules.MAX_CERTIFICATE_BYTES);
  return { privateKeySealed: rt.secrets.seal(key), privateKeyFingerprint: rt.secrets.fingerprint(key) };
}
