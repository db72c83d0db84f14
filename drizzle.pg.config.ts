import { defineConfig } from 'drizzle-kit';

// PostgreSQL's migrations (issue 16), beside SQLite's in drizzle/: npm run db:generate:pg
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/pg-schema.ts',
  out: './drizzle/pg',
});
