import { customType, timestamp } from 'drizzle-orm/pg-core';

/** Binary content (assemblies, certificates, backup chunks) as a Node Buffer. */
export const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (value) => Buffer.from(value),
});

/** A timestamp set in JavaScript when the row is written: millisecond precision keeps cursors exact. */
export const stamp = (name: string) =>
  timestamp(name, { withTimezone: true })
    .notNull()
    .$defaultFn(() => new Date());
