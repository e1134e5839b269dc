import { InvalidArgumentError, Option } from 'commander';
import { parseDkimSpec } from '../drain/dkim.js';
import { ConfigError } from '../errors.js';

/**
 * `--dkim DOMAIN:SELECTOR:KEY` (repeatable; MAILROOM_DKIM and `drain.dkim` take a
 * comma-separated list). The syntax is checked here (a usage error); the keys are read
 * when the run starts, so `mailroom config` shows the specs without touching the keys.
 */
export const dkimOption = () =>
  new Option('--dkim <domain:selector:key>', 'sign mail from DOMAIN (and its subdomains) with the PEM key file KEY (or env:VARIABLE), selector SELECTOR; repeatable')
    .env('MAILROOM_DKIM')
    .argParser((value: string, previous: string[] | undefined) => {
      const specs = value.split(/[,\n]/).map((v) => v.trim()).filter(Boolean);
      for (const spec of specs) {
        try {
          parseDkimSpec(spec);
        } catch (error) {
          if (error instanceof ConfigError) throw new InvalidArgumentError(error.message);
          throw error;
        }
      }
      return [...(previous ?? []), ...specs];
    });
