import { AssertionError } from 'node:assert';
import type { QueuedMail } from './queued.js';
import type { SentMail } from './parsed-mail.js';
import { describeFilter, matches, type MailFilter } from './filter.js';

const line = (mail: SentMail | QueuedMail, i: number): string => {
  const where = 'state' in mail ? ` [${mail.state}, ${mail.priority}${mail.sendAt.getTime() > Date.now() ? `, due ${mail.sendAt.toISOString()}` : ''}${mail.lastError ? `, last error: ${mail.lastError}` : ''}]` : '';
  return `  ${i + 1}. ${mail.view ?? '(no view)'} to ${mail.recipients.join(', ') || '(nobody)'}: ${JSON.stringify(mail.subject)}${where}`;
};
const list = (title: string, mails: (SentMail | QueuedMail)[]) => `${title} (${mails.length}):${mails.length ? `\n${mails.map(line).join('\n')}` : ' none'}`;

export interface Seen {
  queued: QueuedMail[];
  sent: SentMail[];
  failed: QueuedMail[];
}

/** The message of a failed expectation: what was expected, everything there was, and a hint. */
export function explain(expected: string, seen: Seen, hint?: string): AssertionError {
  const lines = [expected, list('Queued', seen.queued), list('Sent', seen.sent)];
  if (seen.failed.length) lines.push(list('Failed', seen.failed));
  if (hint) lines.push(hint);
  return new AssertionError({ message: lines.join('\n') });
}

/** Why an expected message is not where it was looked for, when it is elsewhere. */
export function hintFor(kind: 'queued' | 'sent', filter: MailFilter, seen: Seen): string | undefined {
  if (kind === 'sent') {
    const waiting = seen.queued.find((m) => matches(m, filter));
    if (waiting) {
      const due = waiting.sendAt.getTime() > Date.now() ? ` It is due at ${waiting.sendAt.toISOString()}: mail.deliverAll({ now: new Date('${waiting.sendAt.toISOString()}') }) delivers it.` : '';
      const deferred = waiting.state === 'deferred' ? ` It was deferred (${waiting.lastError ?? 'no reply'}).` : '';
      return `Hint: a matching message is queued, not sent: did you mean expectQueued? Or run mail.deliverAll() first.${due}${deferred}`;
    }
    const failed = seen.failed.find((m) => matches(m, filter));
    if (failed) return `Hint: a matching message failed: ${failed.lastError ?? 'no reply'}.`;
  } else {
    if (seen.sent.some((m) => matches(m, filter))) return 'Hint: a matching message was sent already, not queued: did you mean expectSent?';
    if (seen.failed.some((m) => matches(m, filter))) return 'Hint: a matching message was tried and failed: it is no longer queued.';
  }
  const loose = { ...filter, to: undefined };
  const others = [...seen.queued, ...seen.sent].filter((m) => matches(m, loose));
  if (filter.to !== undefined && others.length) {
    return `Hint: ${describeFilter(loose)} went to ${[...new Set(others.flatMap((m) => m.recipients))].join(', ')}, not ${String(filter.to)}.`;
  }
  return undefined;
}
