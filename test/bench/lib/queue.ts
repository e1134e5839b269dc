import type { SendMailOptions } from 'nodemailer';
import { composeMail, type ComposedMessage } from '../../../src/transport/compose.js';
import { enqueueMany } from '../../../src/store/bulk.js';
import { pg, type Backend } from '../../helpers/databases.js';
import { WelcomeMail } from '../../../emails/_views/index.js';

export const FROM = 'Mailroom Bench <bench@mailroom.test>';

/** A fresh, migrated database (test/helpers/databases.ts), Postgres unless told otherwise, dropped by `drop()`. */
export const freshDatabase = (backend: Backend = pg) => backend.create();

let html: Promise<{ html: string; text: string }> | undefined;

/** The welcome view rendered once: every bench message carries the same body (~3 KB). */
export function welcomeBody() {
  html ??= new WelcomeMail({ name: 'Núria Puigdomènech', loginUrl: 'https://example.com/login' }).render();
  return html;
}

/** `n` nodemailer messages, one recipient each; what both sides of a drain figure send. */
export async function benchMessages(n: number, tag = 'm'): Promise<SendMailOptions[]> {
  const { html, text } = await welcomeBody();
  return Array.from({ length: n }, (_, i) => ({
    from: FROM,
    to: `user${i}@example.test`,
    subject: `Welcome #${i}`,
    html,
    text,
    messageId: `<${tag}-${i}@bench.mailroom.test>`,
  }));
}

/** Builds each message as the queue transport would: the finished RFC 822 bytes. */
export async function composeAll(mails: SendMailOptions[]): Promise<ComposedMessage[]> {
  const out: ComposedMessage[] = [];
  for (const data of mails) out.push(await composeMail(data));
  return out;
}

/** Queues composed messages with the bulk API (fast fill before a drain is timed). */
export async function fill(database: Awaited<ReturnType<typeof freshDatabase>>['database'], composed: ComposedMessage[]) {
  await enqueueMany(database, composed.map((message) => ({ message })));
}
