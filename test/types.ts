// Compile-time test, checked by `tsc -p .` in `npm test`: every @ts-expect-error
// below must be an error, or tsc fails ("Unused '@ts-expect-error' directive").
import { MailView } from 'mailroom';
import { WelcomeMail, InvoiceMail, i18n } from '../emails/_views/index.js';

// Right props compile.
new WelcomeMail({ name: 'Ada', loginUrl: 'https://example.com' });

// @ts-expect-error missing prop `loginUrl`
new WelcomeMail({ name: 'Ada' });

// @ts-expect-error wrong type for `name`
new WelcomeMail({ name: 42, loginUrl: 'https://example.com' });

// @ts-expect-error unknown prop
new WelcomeMail({ name: 'Ada', loginUrl: 'x', admin: true });

// @ts-expect-error lines must be invoice lines
new InvoiceMail({ customer: 'c', number: 'n', currency: 'EUR', lines: ['oops'] });

// A template whose props do not match the view's props does not compile.
export class Mismatched extends MailView<{ name: string }> {
  // @ts-expect-error template takes { count: number }, the view promises { name: string }
  template = ({ count }: { count: number }) => null;
  subject({ name }: { name: string }) {
    return name;
  }
}

// subject() receives the view's props, typed.
export class SubjectTyped extends MailView<{ name: string }> {
  template = ({ name }: { name: string }) => name;
  // @ts-expect-error `nope` is not a prop
  subject({ nope }: { nope: string }) {
    return nope;
  }
}

export class BadPriority extends MailView<object> {
  template = () => null;
  // @ts-expect-error not a priority
  override priority = 'urgent' as const;
  subject() {
    return 's';
  }
}

// The app's own Drizzle database and transaction, with its own schema, on any driver.
import { pgTable, serial, text } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { createQueueTransport, enqueueMail, enqueueMailMany, enqueueMany } from 'mailroom';

const appSchema = { users: pgTable('users', { id: serial('id').primaryKey(), email: text('email').notNull() }) };
const message = { from: 'a@example.com', to: 'b@example.com', subject: 's', text: 't' };
export async function appTransactions(url: string) {
  const postgresDb = drizzlePostgres(url, { schema: appSchema });
  await postgresDb.transaction(async (tx) => {
    await tx.insert(appSchema.users).values({ email: 'b@example.com' });
    await enqueueMail(tx, message);
    await enqueueMailMany(tx, [message]);
    await enqueueMany(tx, []);
  });
  const pgliteDb = drizzlePglite({ schema: appSchema });
  await pgliteDb.transaction((tx) => enqueueMail(tx, message));
  createQueueTransport({ database: postgresDb });
  createQueueTransport({ database: pgliteDb });
  // @ts-expect-error not a database
  await enqueueMail({ query: () => [] }, message);
}

// Translation keys are the default catalog's (emails/_locales/en.json): a misspelt one does not compile.
export function useSubject() {
  const t = i18n.useT();
  // @ts-expect-error "welcome.subjet" is not a key of en.json
  t('welcome.subjet', { name: 'Ada' });
  return t('welcome.subject', { name: 'Ada' });
}

// The locale is a per-message option.
new WelcomeMail({ name: 'Ada', loginUrl: 'https://example.com' }, { locale: 'ca-ES' });

// The preview takes the app's database as enqueueMail does: any Drizzle db described by
// shape (a CommonJS app's drizzle-orm classes are another copy than mailroom's).
import type { DrizzleDb } from 'mailroom';
import { createPreviewHandler } from 'mailroom/preview';
declare const appDb: DrizzleDb;
export const mountedPreview = () => createPreviewHandler({ database: appDb, readOnly: true });
