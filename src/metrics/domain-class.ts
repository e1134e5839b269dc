/**
 * Recipient domains grouped into a few classes for metric labels: a label per domain
 * would make one time series per customer domain (unbounded cardinality), while the big
 * mailbox providers are where throttling and deferrals show first.
 */
const CLASSES: Record<string, readonly string[]> = {
  gmail: ['gmail.com', 'googlemail.com'],
  microsoft: ['outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'hotmail.co.uk', 'outlook.fr', 'hotmail.fr', 'live.fr'],
  yahoo: ['yahoo.com', 'ymail.com', 'aol.com', 'yahoo.co.uk', 'yahoo.fr', 'yahoo.co.jp', 'rocketmail.com'],
  apple: ['icloud.com', 'me.com', 'mac.com'],
  proton: ['proton.me', 'protonmail.com', 'pm.me'],
  gmx: ['gmx.de', 'gmx.net', 'gmx.com', 'web.de', 'mail.com'],
  yandex: ['yandex.ru', 'yandex.com', 'ya.ru'],
  mailru: ['mail.ru', 'bk.ru', 'inbox.ru', 'list.ru'],
  qq: ['qq.com', '163.com', '126.com'],
};

const BY_DOMAIN = new Map(Object.entries(CLASSES).flatMap(([name, domains]) => domains.map((d) => [d, name] as const)));

/** The class of a recipient domain: a provider's name, or `other`. */
export function domainClass(domain: string): string {
  return BY_DOMAIN.get(domain.trim().toLowerCase().replace(/\.$/, '')) ?? 'other';
}

/** Every class a label can take, for documentation and tests. */
export const DOMAIN_CLASSES = [...Object.keys(CLASSES), 'other'] as const;
