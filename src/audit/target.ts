/** Characters of a target id kept in the audit log: a real global id has well under 100. */
export const MAX_AUDIT_TARGET_CHARS = 200;

/**
 * The target id as the audit log can store it: what was attempted, cut to MAX_AUDIT_TARGET_CHARS,
 * NUL (which PostgreSQL text cannot hold) and unpaired surrogates replaced by U+FFFD.
 */
export function storableTarget(id: string | null | undefined): string | null {
  if (typeof id !== 'string') return null;
  const cut = id.length > MAX_AUDIT_TARGET_CHARS ? `${id.slice(0, MAX_AUDIT_TARGET_CHARS)}…` : id;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what this replaces
  return cut.replace(/[\u0000\p{Cs}]/gu, '\uFFFD');
}
