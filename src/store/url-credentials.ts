import { ConfigError } from '../errors.js';
import { redact } from './redact.js';

/**
 * The user name or password of a URL, percent-decoded. A `%` that starts no `%XX`
 * escape (a password typed as is: `100%`) is a ConfigError naming the fix, where
 * decodeURIComponent would throw a bare URIError.
 */
export function decodeCredential(part: string, url: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new ConfigError(
      `The URL "${redact(url)}" has a user name or password that is not URL-encoded (a % not followed by two hex digits): ` +
        `write % as %25, @ as %40, / as %2F and a space as %20.`,
    );
  }
}
