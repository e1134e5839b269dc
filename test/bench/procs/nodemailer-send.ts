/**
 * The drain baseline: a plain nodemailer app sending the bench messages through a
 * pooled SMTP transport, `concurrency` at a time, no queue. A whole process, like
 * `mailroom send`. Usage: nodemailer-send.ts MESSAGES.json SMTP_URL CONCURRENCY
 */
import { readFileSync } from 'node:fs';
import nodemailer, { type SendMailOptions } from 'nodemailer';

const [file, url, concurrencyArg] = process.argv.slice(2);
const mails = JSON.parse(readFileSync(file!, 'utf8')) as SendMailOptions[];
const concurrency = Number(concurrencyArg ?? 5);
const { hostname, port } = new URL(url!);
// The same pool options as mailroom's createSmtpTransport (src/drain/smtp.ts).
const transport = nodemailer.createTransport({
  host: hostname,
  port: Number(port),
  ignoreTLS: true,
  pool: true,
  maxConnections: concurrency,
  maxMessages: Infinity,
  connectionTimeout: 15_000,
  greetingTimeout: 15_000,
  socketTimeout: 60_000,
});

let next = 0;
let sent = 0;
async function worker() {
  for (let mail = mails[next++]; mail; mail = mails[next++]) {
    const info = await transport.sendMail(mail);
    if (info.accepted.length) sent++;
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
transport.close();
console.log(`sent ${sent}`);
