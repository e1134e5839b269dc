import { BlockList, isIP, isIPv4, isIPv6 } from 'node:net';
import { ConfigError } from '../errors.js';

/**
 * DNS rebinding guard. A page on evil.example whose name is re-resolved to our
 * address reaches us with `Host: evil.example` and counts as same-origin in the
 * browser, so the Host header is the only thing that tells it apart. A name is
 * trusted only when it cannot be an attacker's: an IP *literal* of loopback (the
 * browser sends a literal only when the user typed one), `localhost` (browsers
 * resolve it themselves, never through DNS), the literal the server is bound to,
 * and the names the operator configured. Anything that merely looks like loopback
 * (`127.attacker.example`, `0x7f.1`, `localhost.evil.com`) is a name like any other.
 */

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** An IP literal (IPv6 without brackets) in 127.0.0.0/8, `::1`, or 127/8 mapped into IPv6. */
export function isLoopbackAddress(address: string): boolean {
  if (address.includes('%')) return false; // a zone id is not part of an address anyone types
  if (isIPv4(address)) return LOOPBACK.check(address, 'ipv4');
  if (isIPv6(address)) return LOOPBACK.check(address, 'ipv6');
  return false;
}

/** Whether a bind address (`--host`) is reachable from this machine only. */
export function isLoopbackBind(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return bare.toLowerCase() === 'localhost' || isLoopbackAddress(bare);
}

export interface HostHeader {
  /** Lower case; an IPv6 literal without its brackets. */
  name: string;
  /** 4 or 6 for an IP literal, 0 for a DNS name. */
  ip: 0 | 4 | 6;
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A DNS name as RFC 1123 spells it: no trailing dot, no empty label, nothing but letters, digits and inner hyphens. */
function isDnsName(name: string): boolean {
  return name.length <= 253 && name.split('.').every((label) => LABEL.test(label));
}

/**
 * A name whose last label is a number (`127.1`, `0x7f.1`, `0177.0.0.1`) is what URL
 * parsers and resolvers read as an IPv4 address in another spelling: not a name, and
 * not the literal either, so refused rather than guessed at (WHATWG URL's rule).
 */
function endsInNumber(name: string): boolean {
  return /(^|\.)(?:[0-9]+|0x[0-9a-f]*)$/.test(name);
}

/**
 * `Host` as RFC 9110 defines it, `uri-host [":" port]`, strictly: no userinfo, no
 * path, no spaces, a port of digits up to 65535, an IPv4 literal only in dotted
 * decimal (`isIPv4` refuses `0x7f.1`, `127.1` and leading zeros), an IPv6 literal
 * only in brackets. Anything else is null and never allowed.
 */
export function parseHostHeader(value: string | undefined): HostHeader | null {
  if (!value) return null;
  const match = /^(?:\[([^\]]*)\]|([^:[\]]+))(?::([0-9]{1,5}))?$/.exec(value);
  if (!match) return null;
  if (match[3] !== undefined && Number(match[3]) > 65535) return null;
  if (match[1] !== undefined) {
    const v6 = match[1].toLowerCase();
    return isIPv6(v6) && !v6.includes('%') ? { name: v6, ip: 6 } : null;
  }
  const name = match[2]!.toLowerCase();
  if (isIPv4(name)) return { name, ip: 4 };
  return isDnsName(name) && !endsInNumber(name) ? { name, ip: 0 } : null;
}

/**
 * Checks an `allowedHosts` entry: a DNS name (`mail.staging.example`), `*.` and a
 * name for any of its subdomains, or an IP literal (IPv6 with or without brackets).
 */
export function normalizeAllowedHost(entry: string): string {
  const text = entry.trim().toLowerCase();
  const bare = text.replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare)) return bare;
  const name = text.startsWith('*.') ? text.slice(2) : text;
  if (!isDnsName(name) || endsInNumber(name)) {
    throw new ConfigError(`"${entry}" is not a host name for --allowed-host: give a name such as mail.staging.example, *.staging.example, or an IP address (no scheme, port or path).`);
  }
  return text;
}

export interface HostPolicy {
  /** The address the server listens on; as a literal it is itself an allowed Host. */
  bound?: string;
  /** Normalized `allowedHosts` entries. */
  allowed: readonly string[];
}

export function hostAllowed(header: string | undefined, policy: HostPolicy): boolean {
  const host = parseHostHeader(header);
  if (!host) return false;
  if (host.ip !== 0) {
    if (isLoopbackAddress(host.name)) return true;
    const bound = policy.bound?.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    if (bound && isIP(bound) && !isUnspecified(bound) && sameAddress(bound, host.name)) return true;
    return policy.allowed.some((entry) => isIP(entry) !== 0 && sameAddress(entry, host.name));
  }
  if (host.name === 'localhost') return true;
  return policy.allowed.some((entry) => (entry.startsWith('*.') ? host.name.endsWith(entry.slice(1)) : entry === host.name));
}

function isUnspecified(address: string): boolean {
  return address === '0.0.0.0' || sameAddress(address, '::');
}

/** Two IP literals naming the same address (`::1` and `0:0:0:0:0:0:0:1`). */
function sameAddress(a: string, b: string): boolean {
  if (isIP(a) !== isIP(b)) return false;
  const list = new BlockList();
  list.addAddress(a, isIP(a) === 4 ? 'ipv4' : 'ipv6');
  return list.check(b, isIP(b) === 4 ? 'ipv4' : 'ipv6');
}
