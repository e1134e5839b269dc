// The databases a mailroom/testing suite runs on: the default in-memory one, and an app's
// own database given as a Postgres URL or as a Drizzle db (Postgres, or a PGlite file).
import { createTestMailroom, type TestMailroom, type TestMailroomOptions } from 'mailroom/testing';
import { backends, pg, pglite } from './databases.js';

export type TargetName = 'in-memory' | 'postgres url' | 'postgres drizzle db' | 'pglite drizzle db';
export interface Target {
  name: TargetName;
}

/** Every target this machine can run; `kinds` narrows them (Postgres ones only when it is reachable). */
export async function mailroomTargets(kinds: readonly TargetName[] = ['in-memory', 'postgres url', 'postgres drizzle db']): Promise<Target[]> {
  const hasPostgres = (await backends()).includes(pg);
  return kinds.filter((name) => hasPostgres || !name.startsWith('postgres')).map((name) => ({ name }));
}

/** A test mailroom on `target`, and how to close it and drop its database. */
export async function openTestMailroom(target: Target, options: Omit<TestMailroomOptions, 'database'> = {}): Promise<{ mail: TestMailroom; drop(): Promise<void> }> {
  if (target.name === 'in-memory') {
    const mail = await createTestMailroom(options);
    return { mail, drop: () => mail.close() };
  }
  const created = await (target.name === 'pglite drizzle db' ? pglite : pg).create();
  if (target.name === 'postgres url') await created.database.close(); // opened again from its URL
  const mail = await createTestMailroom({ ...options, database: target.name === 'postgres url' ? created.url : created.database.db }).catch(async (error: unknown) => {
    await created.drop();
    throw error;
  });
  return {
    mail,
    async drop() {
      await mail.close();
      await created.drop();
    },
  };
}
