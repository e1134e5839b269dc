import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import { ConfigError } from '../errors.js';
import { loadOptional } from '../optional.js';

/**
 * Any nodemailer transport, from a module the operator writes (`--transport ./ses.mjs`):
 * its default export is a transporter, what `nodemailer.createTransport` takes (options
 * or a transport object, e.g. `{ SES: { sesClient, SendEmailCommand } }`), or a function
 * (async or not) returning either. A `.ts` module loads through tsx.
 */
export async function loadTransportModule(file: string, cwd = process.cwd()): Promise<Transporter> {
  const path = resolve(cwd, file);
  let module: { default?: unknown };
  try {
    if (['.ts', '.mts', '.cts'].includes(extname(path))) {
      const { tsImport } = await loadOptional(() => import('tsx/esm/api'), `The transport module ${file}`, ['tsx']);
      module = await tsImport(pathToFileURL(path).href, import.meta.url);
    } else {
      module = await import(pathToFileURL(path).href);
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`Cannot load the transport module ${path}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
  let value = module.default;
  // A CommonJS module compiled from TypeScript arrives as { default: … }.
  while (value && typeof value === 'object' && 'default' in value && Object.keys(value).every((k) => k === 'default' || k === '__esModule')) value = (value as { default: unknown }).default;
  if (typeof value === 'function') value = await (value as () => unknown)();
  if (!value || typeof value !== 'object') {
    throw new ConfigError(`The transport module ${path} must export default a nodemailer transporter, its createTransport options, or a function returning one.`);
  }
  const transporter = typeof (value as Transporter).sendMail === 'function' ? (value as Transporter) : nodemailer.createTransport(value as never);
  return acceptingAll(transporter);
}

/**
 * Transports other than SMTP (SES, HTTP APIs) answer for the whole message and list no
 * `accepted` recipients; the drain reads per-recipient results from that list, so a
 * success without one means every envelope recipient was taken.
 */
export function acceptingAll(transporter: Transporter): Transporter {
  const send = transporter.sendMail.bind(transporter) as (data: SendMailOptions) => Promise<{ accepted?: unknown[]; envelope?: { to?: string[] } }>;
  transporter.sendMail = (async (data: SendMailOptions, callback?: unknown) => {
    if (callback) throw new ConfigError('mailroom calls sendMail with promises only');
    const info = await send(data);
    if (info && !info.accepted) {
      const to = (data.envelope as { to?: string[] } | undefined)?.to ?? info.envelope?.to ?? [];
      info.accepted = [...to];
    }
    return info;
  }) as never;
  return transporter;
}
