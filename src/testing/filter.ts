import type { MailView } from '../views/mail-view.js';
import type { Priority } from '../views/priority.js';
import type { MailContent } from './parsed-mail.js';

/** A mail view class (`WelcomeMail`), matched by its name as the queue recorded it. */
export type ViewClass = abstract new (...args: any[]) => MailView<any>;

/** What `queued()`, `sent()` and the expectations select on; every given field must match. */
export interface MailFilter {
  /** The view class, or its name. */
  view?: ViewClass | string;
  /** A recipient (To, Cc or Bcc): an address (any case) or a RegExp tested on each. */
  to?: string | RegExp;
  /** The whole subject, or a RegExp. */
  subject?: string | RegExp;
  priority?: Priority;
}

export const viewName = (view: ViewClass | string): string => (typeof view === 'string' ? view : view.name);

export function matches(mail: MailContent & { priority: Priority | null }, filter: MailFilter = {}): boolean {
  if (filter.view !== undefined && mail.view !== viewName(filter.view)) return false;
  const to = filter.to;
  if (to !== undefined && !mail.recipients.some((r) => (typeof to === 'string' ? r.toLowerCase() === to.toLowerCase() : to.test(r)))) return false;
  const subject = filter.subject;
  if (subject !== undefined && !(typeof subject === 'string' ? mail.subject === subject : subject.test(mail.subject))) return false;
  if (filter.priority !== undefined && mail.priority !== filter.priority) return false;
  return true;
}

/** `WelcomeMail to ana@example.com, subject /Welcome/`: the filter as an assertion message says it. */
export function describeFilter(filter: MailFilter): string {
  const parts = [filter.view !== undefined ? viewName(filter.view) : 'message'];
  if (filter.to !== undefined) parts.push(`to ${String(filter.to)}`);
  if (filter.subject !== undefined) parts.push(`with subject ${typeof filter.subject === 'string' ? JSON.stringify(filter.subject) : String(filter.subject)}`);
  if (filter.priority !== undefined) parts.push(`at priority ${filter.priority}`);
  return parts.join(' ');
}
