import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/store/schema.ts',
  out: './drizzle',
  // mailroom's own bookkeeping, apart from an app's (see src/store/migrations.ts).
  migrations: { schema: 'drizzle', table: '__mailroom_migrations' },
});
