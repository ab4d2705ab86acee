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

/** PARTNERS → Partners, X12_MAPPINGS → X12 mappings. */
export const words = (name: string) => name.charAt(0) + name.slice(1).toLowerCase().replaceAll('_', ' ');
