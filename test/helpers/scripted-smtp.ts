import { createServer, type Socket } from 'node:net';

/**
 * A raw SMTP server whose every reply can be scripted, for fault injection:
 * any code at any step, a dropped connection mid-DATA, a server that goes silent.
 * smtp-server cannot drop a socket half-way through a message or stay silent after
 * it, so this speaks the few commands nodemailer uses (no PIPELINING, no TLS, no AUTH).
 */

/** Where the session is when the script is asked for a reply. */
export type Stage = 'greeting' | 'ehlo' | 'mail' | 'rcpt' | 'data' | 'body';

export interface ScriptContext {
  stage: Stage;
  /** 1, 2, … in order of connection. */
  session: number;
  from: string;
  /** The RCPT address being answered (stage rcpt). */
  recipient?: string;
  /** Recipients accepted so far in this transaction. */
  recipients: string[];
  /** The message, at stage body. */
  raw?: Buffer;
  messageId?: string;
}

/**
 * A reply line (`451 4.3.0 try later`; multi-line replies joined by CRLF), or
 * `drop` (close the socket without a word), `stall` (never answer), `drop-mid-data`
 * (at stage data: answer 354, then close the socket once part of the body arrived).
 * Undefined means the normal reply. A 421 reply also closes the connection, as servers do.
 * A Buffer is a reply of raw bytes (any bytes at all: NUL, invalid UTF-8), sent as is with CRLF.
 */
export type Action = string | Buffer | 'drop' | 'stall' | 'drop-mid-data' | undefined;
export type Script = (ctx: ScriptContext) => Action | Promise<Action>;

export interface Delivered {
  messageId: string;
  from: string;
  to: string[];
  session: number;
  /** The client's address: which host sent it, where drains run on several. */
  peer: string;
  raw: Buffer;
}

export interface ScriptedSmtp {
  port: number;
  url: string;
  /** Every message answered with 250, in order. */
  delivered: Delivered[];
  /** Message-ID → how many times it was accepted. */
  counts: Map<string, number>;
  /** Messages whose body arrived, whatever the reply (still being answered included). */
  bodies: number;
  /** Messages whose body arrived and whose reply is still being decided now: sends in flight. */
  answering: number;
  sessions: number;
  duplicates(): { messageId: string; count: number }[];
  close(): Promise<void>;
}

const DEFAULTS: Record<Stage, string> = {
  greeting: '220 scripted.test ESMTP ready',
  ehlo: '250-scripted.test at your service\r\n250 8BITMIME',
  mail: '250 2.1.0 sender ok',
  rcpt: '250 2.1.5 recipient ok',
  data: '354 end data with <CR><LF>.<CR><LF>',
  body: '250 2.0.0 queued',
};

const END_OF_DATA = Buffer.from('\r\n.\r\n');

export function messageIdOf(raw: Buffer): string {
  const head = raw.subarray(0, Math.max(0, raw.indexOf('\r\n\r\n')) || raw.length).toString('latin1');
  return /^message-id:\s*(<[^>\r\n]+>)/im.exec(head)?.[1] ?? '';
}

function addressOf(argument: string): string {
  return /<([^>]*)>/.exec(argument)?.[1] ?? argument.trim();
}

/** `host`: the address to listen on (0.0.0.0 for hosts in network namespaces); the URL still names 127.0.0.1 then. */
export async function startScriptedSmtp(script: Script = () => undefined, { host = '127.0.0.1' }: { host?: string } = {}): Promise<ScriptedSmtp> {
  const sockets = new Set<Socket>();
  const state: ScriptedSmtp = {
    port: 0,
    url: '',
    delivered: [],
    counts: new Map(),
    bodies: 0,
    answering: 0,
    sessions: 0,
    duplicates: () => [...state.counts].filter(([, n]) => n > 1).map(([messageId, count]) => ({ messageId, count })),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    const session = ++state.sessions;
    let from = '';
    let recipients: string[] = [];
    let input: Buffer = Buffer.alloc(0);
    let inData = false;
    let dropMidData = false;
    let busy = false;
    let dead = false;
    socket.on('close', () => {
      sockets.delete(socket);
      dead = true; // a reply still being thought about is never sent, so that message is not accepted
    });

    const ctx = (stage: Stage, extra: Partial<ScriptContext> = {}): ScriptContext => ({ stage, session, from, recipients: [...recipients], ...extra });

    /** Asks the script, then writes its reply; null when there is none (dropped, stalled, closed). */
    const answer = async (stage: Stage, extra: Partial<ScriptContext> = {}, fallback = DEFAULTS[stage]): Promise<string | null> => {
      const scripted = (await script(ctx(stage, extra))) ?? fallback;
      if (dead) return null;
      const bytes = Buffer.isBuffer(scripted) ? scripted : undefined;
      const action = bytes ? bytes.toString('latin1') : (scripted as string);
      if (!bytes && action === 'stall') {
        dead = true; // keep the socket open and say nothing more
        return null;
      }
      if (!bytes && (action === 'drop' || (action === 'drop-mid-data' && stage !== 'data'))) {
        dead = true;
        socket.destroy();
        return null;
      }
      if (!bytes && action === 'drop-mid-data') {
        dropMidData = true;
        socket.write(`${DEFAULTS.data}\r\n`);
        return DEFAULTS.data;
      }
      socket.write(bytes ? Buffer.concat([bytes, Buffer.from('\r\n')]) : `${action}\r\n`);
      if (/^421[ -]/.test(action)) {
        dead = true;
        socket.end();
        return null;
      }
      return action;
    };

    const command = async (line: string): Promise<void> => {
      const [verb = '', ...rest] = line.split(' ');
      const argument = rest.join(' ');
      switch (verb.toUpperCase()) {
        case 'EHLO':
        case 'HELO':
          await answer('ehlo');
          return;
        case 'MAIL':
          from = addressOf(argument);
          recipients = [];
          await answer('mail');
          return;
        case 'RCPT': {
          const recipient = addressOf(argument);
          const reply = await answer('rcpt', { recipient });
          if (reply?.startsWith('2')) recipients.push(recipient);
          return;
        }
        case 'DATA': {
          const reply = await answer('data', {}, recipients.length ? DEFAULTS.data : '554 5.5.1 no valid recipients');
          if (reply?.startsWith('3')) inData = true;
          return;
        }
        case 'RSET':
          from = '';
          recipients = [];
          socket.write('250 2.0.0 reset\r\n');
          return;
        case 'NOOP':
          socket.write('250 2.0.0 ok\r\n');
          return;
        case 'QUIT':
          dead = true;
          socket.end('221 2.0.0 bye\r\n');
          return;
        default:
          socket.write('500 5.5.2 unknown command\r\n');
      }
    };

    const body = async (raw: Buffer): Promise<void> => {
      state.bodies++;
      // Undo dot-stuffing: a line starting with "." was sent as "..".
      const message = Buffer.from(raw.toString('latin1').replace(/^\.\./gm, '.'), 'latin1');
      const messageId = messageIdOf(message);
      state.answering++;
      const reply = await answer('body', { raw: message, messageId }).finally(() => state.answering--);
      if (reply?.startsWith('2')) {
        const delivered = { messageId, from, to: recipients, session, peer: socket.remoteAddress ?? '', raw: message };
        state.delivered.push(delivered);
        state.counts.set(messageId, (state.counts.get(messageId) ?? 0) + 1);
      }
      from = '';
      recipients = [];
    };

    /** Handles buffered input one command (or one message) at a time, waiting for async scripts. */
    const pump = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        while (!dead) {
          if (inData) {
            if (dropMidData && input.length > 0) {
              dead = true;
              socket.destroy();
              return;
            }
            // The body ends with CRLF.CRLF; the DATA reply ended the line before it.
            const search = Buffer.concat([Buffer.from('\r\n'), input]);
            const end = search.indexOf(END_OF_DATA);
            if (end < 0) return;
            const raw = search.subarray(2, end + 2);
            input = search.subarray(end + END_OF_DATA.length);
            inData = false;
            await body(raw);
            continue;
          }
          const eol = input.indexOf('\r\n');
          if (eol < 0) return;
          const line = input.subarray(0, eol).toString('utf8');
          input = input.subarray(eol + 2);
          await command(line);
        }
      } finally {
        busy = false;
      }
    };

    socket.on('data', (chunk: Buffer) => {
      if (dead) return;
      input = input.length ? Buffer.concat([input, chunk]) : chunk;
      void pump();
    });
    void answer('greeting');
  });

  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  const address = server.address();
  state.port = typeof address === 'object' && address ? address.port : 0;
  state.url = `smtp://127.0.0.1:${state.port}?tls=false`;
  return state;
}
