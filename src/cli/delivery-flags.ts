import { InvalidArgumentError, Option } from 'commander';
import { ConfigError } from '../errors.js';
import { signingDomain } from '../drain/dkim.js';
import { parseSmtpUrl } from '../drain/smtp.js';
import { splitUrls } from '../drain/transports.js';
import { durationBetween, MAX_TIMER_SECONDS } from './options.js';

/**
 * The flags that say where the drain sends beyond one `--smtp` URL: several URLs in
 * failover order, routes by sender domain, a nodemailer transport module, and how long a
 * failed server is set aside. Syntax is checked when parsed (a usage error); servers are
 * reached when the run starts.
 */

/** Every URL of a list parses, or the ConfigError of the first that does not (passwords hidden). */
export function checkUrls(value: string): string[] {
  const urls = splitUrls(value);
  for (const url of urls) parseSmtpUrl(url);
  return urls;
}

const usage = <T>(check: () => T): T => {
  try {
    return check();
  } catch (error) {
    if (error instanceof ConfigError) throw new InvalidArgumentError(error.message);
    throw error;
  }
};

/** One route: `DOMAIN=URL[,URL…]`. */
export interface RouteSpec {
  domain: string;
  urls: string[];
}

/**
 * `example.com=smtp://a,smtp://b other.org=smtp://c` (whitespace between routes; a config
 * file's list arrives joined by commas, so a comma before `DOMAIN=` splits too).
 */
export function parseRoutes(value: string): RouteSpec[] {
  return value
    .split(/\s+|,\s*(?=[^,=/:@\s]+=)/)
    .filter(Boolean)
    .map((route) => {
      const eq = route.indexOf('=');
      const domain = eq > 0 ? signingDomain(route.slice(0, eq)) : null;
      if (!domain) throw new ConfigError(`Route "${route.replace(/=.*$/, '=…')}" is not DOMAIN=URL: e.g. example.com=smtp://relay.example.com:587 (several URLs for failover: comma-separated).`);
      const urls = checkUrls(route.slice(eq + 1));
      if (!urls.length) throw new ConfigError(`Route for ${domain} names no SMTP URL.`);
      return { domain, urls };
    });
}

/** `--route` values: the specs as given (joined later), checked for syntax. */
export const routeOption = () =>
  new Option('--route <domain=url>', 'send mail from DOMAIN (and its subdomains) through this SMTP URL (comma-separated URLs fail over); repeatable')
    .env('MAILROOM_ROUTES')
    .argParser((value: string, previous: string[] | undefined) => {
      usage(() => parseRoutes(value));
      return [...(previous ?? []), value];
    });

export const transportOption = () =>
  new Option('--transport <module>', 'a module whose default export is a nodemailer transport (e.g. Amazon SES), used instead of --smtp').env('MAILROOM_TRANSPORT');

export const FAILOVER_RETRY_SECONDS = 60;

export const failoverRetryOption = () =>
  new Option('--failover-retry <duration>', 'how long a server that failed at connect is skipped before it is tried again').argParser(durationBetween(1, MAX_TIMER_SECONDS)).default(FAILOVER_RETRY_SECONDS);

/** The `--smtp` value as a list, each URL checked (a usage error). */
export const smtpListParser = (value: string): string => {
  usage(() => checkUrls(value));
  return value;
};
