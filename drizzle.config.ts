import { defineConfig } from 'drizzle-kit';

// drizzle-kit reads the tables from src/db/schema.ts and writes migrations into drizzle/.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './drizzle',
});
