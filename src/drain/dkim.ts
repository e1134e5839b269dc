import { createPrivateKey, createSign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { domainToASCII } from 'node:url';
import type { Transporter } from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import { ConfigError } from '../errors.js';

/**
 * DKIM signing at send time, one key per signing domain. The stored bytes stay unsigned
 * (a key rotated while mail waits in the queue still signs it); nodemailer signs the
 * stream it writes to the server (its `dkim` message option, which applies to `raw`
 * messages too: the signature is computed over the raw bytes and prepended).
 */

/** One signing key: mail whose From is at `domain` (or a subdomain of it) is signed `d=domain; s=selector`. */
export interface DkimKey {
  /** The signing domain (`d=`), e.g. `example.com`. */
  domain: string;
  /** The selector (`s=`): the public key is the TXT record at `selector._domainkey.domain`. */
  selector: string;
  /** The RSA private key, PEM (PKCS#1 or PKCS#8). */
  privateKey: string | Buffer;
}

/**
 * `DOMAIN:SELECTOR:KEY`, as `--dkim`, `MAILROOM_DKIM` and `drain.dkim` take it. KEY is a
 * PEM file's path, or `env:NAME` for a PEM held in the environment variable NAME (with
 * real newlines, or `\n` escapes as some secret stores write them).
 */
export interface DkimSpec {
  domain: string;
  selector: string;
  source: { file: string } | { env: string };
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const SPEC_FORM = 'DOMAIN:SELECTOR:KEYFILE or DOMAIN:SELECTOR:env:VARIABLE, e.g. example.com:mail2026:/etc/mailroom/dkim/example.com.pem';

/** A domain as DKIM's `d=` wants it: lower case, A-labels (punycode), no trailing dot; null when not a host name. */
export function signingDomain(domain: string): string | null {
  const ascii = domainToASCII(domain.trim().replace(/\.$/, '')).toLowerCase();
  if (!ascii || ascii.length > 253 || !ascii.includes('.')) return null;
  return ascii.split('.').every((label) => LABEL.test(label)) ? ascii : null;
}

/** Parses one spec (syntax only; the key is read by `loadDkimKeys`). Throws a ConfigError naming it. */
export function parseDkimSpec(spec: string): DkimSpec {
  const text = spec.trim();
  const first = text.indexOf(':');
  const second = first < 0 ? -1 : text.indexOf(':', first + 1);
  if (second < 0) throw new ConfigError(`DKIM key "${text}" is not ${SPEC_FORM}.`);
  const domain = signingDomain(text.slice(0, first));
  const selector = text.slice(first + 1, second).trim().toLowerCase();
  const key = text.slice(second + 1).trim();
  if (!domain) throw new ConfigError(`DKIM key "${text}": "${text.slice(0, first)}" is not a domain name. Expected ${SPEC_FORM}.`);
  // A selector is one or more DNS labels (RFC 6376 §3.1).
  if (!selector || !selector.split('.').every((label) => LABEL.test(label))) {
    throw new ConfigError(`DKIM key "${text}": selector "${selector}" must be DNS labels (letters, digits, hyphens). Expected ${SPEC_FORM}.`);
  }
  if (!key) throw new ConfigError(`DKIM key "${text}" names no key file. Expected ${SPEC_FORM}.`);
  if (key.startsWith('env:')) {
    const name = key.slice(4);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ConfigError(`DKIM key "${text}": "${name}" is not an environment variable name.`);
    return { domain, selector, source: { env: name } };
  }
  return { domain, selector, source: { file: key } };
}

function where(spec: DkimSpec): string {
  return 'file' in spec.source ? `file ${spec.source.file}` : `environment variable ${spec.source.env}`;
}

/** Reads the PEM a spec names. Errors name the file or variable, never the key. */
function readKey(spec: DkimSpec, env: NodeJS.ProcessEnv): string {
  if ('env' in spec.source) {
    const value = env[spec.source.env];
    if (!value?.trim()) throw new ConfigError(`DKIM key for ${spec.domain}: environment variable ${spec.source.env} is empty or unset.`);
    return value.includes('\n') ? value : value.replace(/\\n/g, '\n');
  }
  try {
    return readFileSync(spec.source.file, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new ConfigError(`DKIM key for ${spec.domain}: cannot read ${spec.source.file} (${code ?? (error as Error).message}).`, { cause: error });
  }
}

/** An RSA private key of at least 1024 bits (RFC 8301) that can sign, or a ConfigError: nodemailer would otherwise send unsigned. */
function checkKey(spec: DkimSpec, pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new ConfigError(`DKIM key for ${spec.domain} (${where(spec)}) is not a PEM private key (unencrypted, PKCS#1 or PKCS#8).`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa') {
    throw new ConfigError(`DKIM key for ${spec.domain} (${where(spec)}) is ${key.asymmetricKeyType ?? 'not RSA'}: nodemailer signs rsa-sha256 only; give an RSA key (openssl genrsa 2048).`);
  }
  if (bits < 1024) throw new ConfigError(`DKIM key for ${spec.domain} (${where(spec)}) has ${bits} bits: receivers ignore RSA keys under 1024 bits (RFC 8301); use 2048.`);
  createSign('RSA-SHA256').update('mailroom').sign(key);
  return key;
}

/**
 * Reads and checks every key (unreadable, not PEM, not RSA, under 1024 bits, or two keys
 * for one domain: a ConfigError naming the domain and where its key was, before anything
 * is claimed).
 */
export function loadDkimKeys(specs: readonly (string | DkimSpec)[], env: NodeJS.ProcessEnv = process.env): DkimKey[] {
  const keys: DkimKey[] = [];
  for (const given of specs) {
    const spec = typeof given === 'string' ? parseDkimSpec(given) : given;
    if (keys.some((k) => k.domain === spec.domain)) {
      throw new ConfigError(`Two DKIM keys for ${spec.domain}: give one key per signing domain (to rotate, publish the new selector and switch to it).`);
    }
    const pem = readKey(spec, env);
    checkKey(spec, pem);
    keys.push({ domain: spec.domain, selector: spec.selector, privateKey: pem });
  }
  return keys;
}

/** The key for a From domain: its own, else its closest parent's (relaxed DMARC alignment), else none. */
export function keyForDomain(keys: readonly DkimKey[], domain: string): DkimKey | undefined {
  let candidate: string | null = signingDomain(domain);
  while (candidate) {
    const found = keys.find((k) => k.domain === candidate);
    if (found) return found;
    const dot: number = candidate.indexOf('.');
    candidate = dot < 0 ? null : candidate.slice(dot + 1);
  }
  return undefined;
}

/** The domain of a message's first From address: from the raw bytes' header, or nodemailer's `from` option. */
export function fromDomain(data: { raw?: unknown; from?: unknown }): string | undefined {
  let from: string | undefined;
  if (typeof data.raw === 'string' || Buffer.isBuffer(data.raw)) {
    const raw = Buffer.isBuffer(data.raw) ? data.raw : Buffer.from(data.raw);
    const end = raw.indexOf('\r\n\r\n');
    const head = raw.subarray(0, end < 0 ? Math.min(raw.length, 64 * 1024) : end).toString('utf8');
    from = /^from:([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)/im.exec(head)?.[1]?.replace(/\r?\n(?=[ \t])/g, '');
  } else if (typeof data.from === 'string') {
    from = data.from;
  } else if (data.from && typeof data.from === 'object' && typeof (data.from as { address?: unknown }).address === 'string') {
    from = (data.from as { address: string }).address;
  }
  if (!from) return undefined;
  const mailbox = addressparser(from, { flatten: true })[0];
  const address = mailbox && 'address' in mailbox ? mailbox.address : undefined;
  const at = address?.lastIndexOf('@') ?? -1;
  return at < 0 ? undefined : address!.slice(at + 1);
}

/**
 * Signs every message `transporter` sends whose From domain has a key (its own or a
 * parent's); others go out unsigned, as before. Works on any nodemailer transporter
 * (SMTP, SES, …): a plugin picks the key, nodemailer signs the bytes it writes.
 * Returns the transporter.
 */
export function signWithDkim<T extends Transporter>(transporter: T, keys: readonly DkimKey[]): T {
  if (keys.length === 0) return transporter;
  transporter.use('compile', (mail, done) => {
    const data = mail.data as { raw?: unknown; from?: unknown; dkim?: unknown };
    const domain = fromDomain(data);
    const key = domain === undefined ? undefined : keyForDomain(keys, domain);
    if (key && !data.dkim) data.dkim = { domainName: key.domain, keySelector: key.selector, privateKey: key.privateKey };
    done();
  });
  return transporter;
}
