// npm run schema: writes the schema the code builds to schema.graphql (committed; a test compares).
import { writeFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { schema } from './graphql/schema.js';

writeFileSync(new URL('../schema.graphql', import.meta.url), `${printSchema(schema)}\n`);
