import { InvalidStateError, LimitExceededError, ValidationError } from '../errors.js';

export const editionNames = ['FREE', 'DEVELOPER', 'BASIC', 'STANDARD', 'PREMIUM'] as const;
export type Edition = (typeof editionNames)[number];

export const serviceStates = ['ACTIVE', 'STOPPED', 'SUSPENDED', 'RESTORING', 'DELETED'] as const;
export type ServiceState = (typeof serviceStates)[number];

export const secretKinds = [
  'ACS_ISSUER_KEY',
  'TRACKING_DATABASE_CONNECTION_STRING',
  'ARCHIVING_STORAGE_CONNECTION_STRING',
  'MONITORING_STORAGE_CONNECTION_STRING',
  'SSL_CERTIFICATE',
] as const;
export type SecretKind = (typeof secretKinds)[number];

export const DEFAULT_PRODUCT_VERSION = '1.0';

/** Limits per scale unit and features, from the BizTalk Services editions chart (SPEC §2). */
export interface EditionInfo {
  edition: Edition;
  minScaleUnits: number;
  maxScaleUnits: number;
  bridgesPerUnit: number;
  agreementsPerUnit: number;
  hybridConnectionsPerUnit: number;
  backupRestore: boolean;
  archiving: boolean;
}

export const editions: EditionInfo[] = [
  {
    edition: 'FREE',
    minScaleUnits: 1,
    maxScaleUnits: 1,
    bridgesPerUnit: 0,
    agreementsPerUnit: 0,
    hybridConnectionsPerUnit: 5,
    backupRestore: false,
    archiving: false,
  },
  {
    edition: 'DEVELOPER',
    minScaleUnits: 1,
    maxScaleUnits: 1,
    bridgesPerUnit: 25,
    agreementsPerUnit: 10,
    hybridConnectionsPerUnit: 5,
    backupRestore: true,
    archiving: true,
  },
  {
    edition: 'BASIC',
    minScaleUnits: 1,
    maxScaleUnits: 8,
    bridgesPerUnit: 25,
    agreementsPerUnit: 50,
    hybridConnectionsPerUnit: 10,
    backupRestore: true,
    archiving: false,
  },
  {
    edition: 'STANDARD',
    minScaleUnits: 1,
    maxScaleUnits: 8,
    bridgesPerUnit: 125,
    agreementsPerUnit: 250,
    hybridConnectionsPerUnit: 50,
    backupRestore: true,
    archiving: false,
  },
  {
    edition: 'PREMIUM',
    minScaleUnits: 1,
    maxScaleUnits: 8,
    bridgesPerUnit: 500,
    agreementsPerUnit: 1000,
    hybridConnectionsPerUnit: 100,
    backupRestore: true,
    archiving: true,
  },
];

export function editionInfo(edition: Edition): EditionInfo {
  return editions.find((e) => e.edition === edition)!;
}

/** Lower index = lower edition; restores may only go up. */
export function editionRank(edition: Edition): number {
  return editionNames.indexOf(edition);
}

/** Azure regions (datacenters) where BizTalk Services ran. */
export const regions = [
  { name: 'eastus', displayName: 'East US' },
  { name: 'eastus2', displayName: 'East US 2' },
  { name: 'centralus', displayName: 'Central US' },
  { name: 'northcentralus', displayName: 'North Central US' },
  { name: 'southcentralus', displayName: 'South Central US' },
  { name: 'westus', displayName: 'West US' },
  { name: 'northeurope', displayName: 'North Europe' },
  { name: 'westeurope', displayName: 'West Europe' },
  { name: 'eastasia', displayName: 'East Asia' },
  { name: 'southeastasia', displayName: 'Southeast Asia' },
  { name: 'japaneast', displayName: 'Japan East' },
  { name: 'japanwest', displayName: 'Japan West' },
  { name: 'brazilsouth', displayName: 'Brazil South' },
  { name: 'australiaeast', displayName: 'Australia East' },
  { name: 'australiasoutheast', displayName: 'Australia Southeast' },
] as const;

const NAME_PATTERN = /^[a-z][a-z0-9-]{2,48}[a-z0-9]$/;

/** Why a name is not a valid service name (a DNS label, SPEC §2), or null when it is. */
export function nameProblem(name: string): string | null {
  if (name.length < 4 || name.length > 50) return `must be 4 to 50 characters long, got ${name.length}`;
  if (!/^[a-z]/.test(name)) return 'must start with a lowercase letter';
  if (name.endsWith('-')) return 'must not end with a hyphen';
  if (!NAME_PATTERN.test(name)) return 'may contain only lowercase letters, digits and hyphens';
  return null;
}

export function validateName(name: string, path: string[]): void {
  const problem = nameProblem(name);
  if (problem) throw ValidationError.field(path, `service name ${problem}`);
}

export function validateRegion(region: string, path: string[]): void {
  if (!regions.some((r) => r.name === region)) {
    throw ValidationError.field(path, `unknown region "${region}"; the regions query lists the valid ones`);
  }
}

export function validateScaleUnits(edition: Edition, count: number): void {
  const info = editionInfo(edition);
  if (!Number.isInteger(count) || count < info.minScaleUnits || count > info.maxScaleUnits) {
    throw new LimitExceededError(
      `The ${edition} edition allows ${info.minScaleUnits} to ${info.maxScaleUnits} scale units, not ${count}`,
      'scaleUnits',
      info.maxScaleUnits,
    );
  }
}

export const lifecycleOperations = [
  'start',
  'stop',
  'restart',
  'suspend',
  'resume',
  'delete',
  'scale',
  'updateSettings',
  'backup',
  'changeArtifacts',
  'finishRestore',
] as const;
export type LifecycleOperation = (typeof lifecycleOperations)[number];

/** The states each operation is allowed in (SPEC §2 state table). */
const allowedStates: Record<LifecycleOperation, readonly ServiceState[]> = {
  start: ['STOPPED'],
  stop: ['ACTIVE'],
  restart: ['ACTIVE', 'STOPPED'],
  suspend: ['ACTIVE'],
  resume: ['SUSPENDED'],
  delete: ['ACTIVE', 'STOPPED', 'SUSPENDED'],
  scale: ['ACTIVE'],
  updateSettings: ['ACTIVE'],
  backup: ['ACTIVE', 'STOPPED', 'SUSPENDED'],
  changeArtifacts: ['ACTIVE', 'STOPPED', 'SUSPENDED'],
  /** A restore filled the service: it waits, SUSPENDED, for its checklist (SPEC §2). */
  finishRestore: ['RESTORING'],
};

/** The state a transition ends in; operations missing here do not change the state. */
const targetState: Partial<Record<LifecycleOperation, ServiceState>> = {
  start: 'ACTIVE',
  stop: 'STOPPED',
  restart: 'ACTIVE',
  suspend: 'SUSPENDED',
  resume: 'ACTIVE',
  delete: 'DELETED',
  finishRestore: 'SUSPENDED',
};

/** The states `operation` is allowed in (a statement that checks the state itself tests against these). */
export function statesAllowing(operation: LifecycleOperation): readonly ServiceState[] {
  return allowedStates[operation];
}

export function assertAllowed(operation: LifecycleOperation, state: ServiceState, serviceName: string): void {
  const allowed = allowedStates[operation];
  if (!allowed.includes(state)) {
    throw new InvalidStateError(
      `Cannot ${operation} service "${serviceName}" while it is ${state}; allowed in: ${allowed.join(', ')}`,
      state,
    );
  }
}

export function nextState(operation: LifecycleOperation, state: ServiceState): ServiceState {
  return targetState[operation] ?? state;
}

/** "A STOPPED service", "An ACTIVE service": a state (or any word) with the article it takes. */
export function withArticle(word: string): string {
  return `${/^[AEIOU]/i.test(word) ? 'An' : 'A'} ${word}`;
}

/** When a deleted service's name becomes free again. */
export function nameHoldEnds(deletedAt: Date, holdSeconds: number): Date {
  return new Date(deletedAt.getTime() + holdSeconds * 1000);
}
