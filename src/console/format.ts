/** How the console writes values for people. */
export const dateTime = (iso: string | null | undefined) =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '–';

export const time = (iso: string) => new Date(iso).toLocaleTimeString(undefined, { hour12: false });

export function bytes(n: number | null | undefined) {
  if (n == null) return '–';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

const ACRONYMS = new Set(['ACS', 'AS2', 'FTP', 'MIC', 'SSL', 'X12']);

/** PARTNERS → Partners, X12_MAPPINGS → X12 mappings, REVIEW_ACS_CREDENTIALS → Review ACS credentials. */
export const words = (name: string) =>
  name
    .split('_')
    .map((word, i) =>
      ACRONYMS.has(word) ? word : i === 0 ? word.charAt(0) + word.slice(1).toLowerCase() : word.toLowerCase(),
    )
    .join(' ');
