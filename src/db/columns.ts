import { customType, timestamp } from 'drizzle-orm/pg-core';

/** Binary content (assemblies, certificates, backup chunks) as a Node Buffer. */
export const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  // postgres.js already gives a Buffer; PGlite a Uint8Array, viewed without a copy.
  fromDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)),
});

/** A timestamp set in JavaScript when the row is written: millisecond precision keeps cursors exact. */
export const stamp = (name: string) => timestamp(name, { withTimezone: true }).notNull().$defaultFn(() => new Date());
