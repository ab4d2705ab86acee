// GraphQL documents shared by the test files, so each test reads as the operator's story.
export const SERVICE_FIELDS = 'id name edition scaleUnitCount productVersion region state deletedAt';

export const CREATE_SERVICE = `mutation ($input: CreateServiceInput!) {
  createService(input: $input) {
    __typename
    ... on CreateServiceSuccess { service { ${SERVICE_FIELDS} } }
    ... on Error { code message }
    ... on ValidationError { fields { path message } }
    ... on NameUnavailableError { availableAt }
    ... on LimitExceededError { limit maximum }
  }
}`;

/** A lifecycle mutation (startService, stopService, …) by name. */
export const lifecycle = (name: string, extra = '') => `mutation ($id: ID!) {
  ${name}(input: { serviceId: $id ${extra} }) {
    __typename
    ... on Error { code message }
    ... on InvalidStateError { state }
    ... on ${name.charAt(0).toUpperCase() + name.slice(1)}Success { service { ${SERVICE_FIELDS} } }
  }
}`;

/** The database id inside a global id ("Service:<uuid>" in base64). */
export const rawId = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1]!;
