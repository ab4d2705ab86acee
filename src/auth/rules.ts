export const roles = ['READER', 'OPERATOR', 'ADMIN'] as const;
export type Role = (typeof roles)[number];

/** Who is calling: resolved from the bearer token of the request or the WebSocket connection. */
export interface Viewer {
  tokenId: string | null;
  tokenName: string;
  role: Role;
}

/** Each role can do what the roles below it can (SPEC §4). */
export function hasRole(viewer: Viewer | null, needed: Role): boolean {
  return viewer !== null && roles.indexOf(viewer.role) >= roles.indexOf(needed);
}

export function bearerToken(header: string | null | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1] ?? null;
}
