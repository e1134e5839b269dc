import { Readable } from 'node:stream';
import type { Transporter } from 'nodemailer';

// Stored messages are finished RFC 822 bytes, yet `transporter.sendMail({ raw })` builds
// a MIME tree around them for every send (random boundaries, header parsing, a stream
// pipeline): 0.35–0.45 ms of CPU per message, half of what a drain spends on SMTP (see
// README, Performance). The pools mailroom makes itself are handed the bytes directly,
// through the interface nodemailer's transports implement (`send(mail, callback)` with
// `mail.message` and `mail.data`): the same SMTP connections, timeouts, TLS, login,
// pipelining and reconnects, without the message building. Any other transporter (one
// the app passes in, another transport module) goes through `sendMail` as before.

/** What a nodemailer transport answers for a message. */
export interface SentInfo {
  accepted?: (string | { address: string })[];
  rejected?: (string | { address: string })[];
  rejectedErrors?: unknown[];
  response?: string;
  messageId?: string;
}

/** The part of nodemailer's transport interface used here. */
interface RawTransport {
  send(mail: unknown, callback: (error: Error | null, info?: SentInfo) => void): void;
}

/** Transporters made by createSmtpTransport: nodemailer's SMTP pool inside. */
const ownPools = new WeakSet<Transporter>();

/** Marks a transporter made by createSmtpTransport, whose messages may skip the building step. */
export function ownPool<T extends Transporter>(transporter: T): T {
  ownPools.add(transporter);
  return transporter;
}

interface MailInternals {
  transporter?: Partial<RawTransport>;
  dkim?: unknown;
  options?: { proxy?: unknown };
  _userPlugins?: Record<string, unknown[]>;
}

/**
 * The SMTP pool to hand stored bytes to, or undefined to use `sendMail`: only for our own
 * pools, and only while nothing was added that works on the built message (DKIM signing,
 * plugins, a proxy), which the direct path would skip.
 */
function directPool(transporter: Transporter): RawTransport | undefined {
  if (!ownPools.has(transporter)) return undefined;
  const mail = transporter as unknown as MailInternals;
  if (mail.dkim || mail.options?.proxy) return undefined;
  for (const plugins of Object.values(mail._userPlugins ?? {})) if (plugins.length) return undefined;
  return typeof mail.transporter?.send === 'function' ? (mail.transporter as RawTransport) : undefined;
}

/**
 * A message already built: what a nodemailer transport reads from `mail`. The stream
 * gives the bytes at once and ends (which sends the final dot) once `endAfter` settles:
 * the server has the whole message but takes it only with the dot.
 */
function builtMail(envelope: { from: string; to: string[] }, raw: Buffer, messageId: string, endAfter: Promise<unknown> | undefined) {
  return {
    data: {},
    message: {
      getEnvelope: () => ({ from: envelope.from, to: [...envelope.to] }),
      messageId: () => messageId,
      getHeader: (key: string) => (key.toLowerCase() === 'message-id' ? messageId : undefined),
      // A fresh stream per call: the pool sends again on a new connection when a reused
      // one turns out closed before a byte was read (readableDidRead), as for sendMail.
      createReadStream: () => {
        let started = false;
        return new Readable({
          read() {
            if (started) return;
            started = true;
            this.push(raw);
            if (!endAfter) return void this.push(null);
            // A refused wait ends the stream with its error: the message is abandoned before its dot.
            endAfter.then(
              () => this.push(null),
              (error: unknown) => this.destroy(error instanceof Error ? error : new Error(String(error))),
            );
          },
        });
      },
    },
  };
}

/**
 * Sends stored bytes to `envelope`: straight to the SMTP pool for our own transporters,
 * through `sendMail` for any other. Resolves with the transport's answer (accepted,
 * rejectedErrors, response), rejects with its error, as `sendMail` does.
 *
 * `endAfter`: the message is not completed before it settles. On our own pools the
 * envelope and the bytes go out at once and only the final dot (what makes the server
 * take the message) waits; other transporters wait before sending anything. Rejected,
 * the message is not sent, and the send rejects.
 */
export async function sendStored(
  transporter: Transporter,
  envelope: { from: string; to: string[] },
  raw: Buffer,
  messageId: string,
  endAfter?: Promise<unknown>,
): Promise<SentInfo> {
  // Read only once the server has said 354: refused before that, it is handled here, not unhandled.
  endAfter?.catch(() => {});
  const pool = directPool(transporter);
  if (!pool) {
    await endAfter;
    return (await transporter.sendMail({ envelope, raw, messageId })) as SentInfo;
  }
  return new Promise((resolve, reject) => {
    pool.send(builtMail(envelope, raw, messageId, endAfter), (error, info) => (error ? reject(error) : resolve(info ?? {})));
  });
}
