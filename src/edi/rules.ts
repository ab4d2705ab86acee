/** ISA13, GS06 and ST02 are 9-digit numbers; after 999999999 they wrap to 1, as X12 allows. */
export const CONTROL_NUMBER_MAX = 999_999_999;

/** The control number shown for a position: 0 before any message, then 1..MAX, wrapping. */
export function controlNumber(position: number): number {
  return position === 0 ? 0 : ((position - 1) % CONTROL_NUMBER_MAX) + 1;
}

export function validControlNumber(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= CONTROL_NUMBER_MAX;
}
