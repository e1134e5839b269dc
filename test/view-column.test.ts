// The queue records which mail view built each message (the `view` column): what the
// outbox shows and filters on, and what mailroom/testing's queued()/expectQueued() match.
import { describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { createQueueTransport, enqueueMail, enqueueMailMany, InvalidMessageError, messages } from 'mailroom';
import { InvoiceMail, WelcomeMail } from '../emails/_views/index.js';
import { backends } from './helpers/databases.js';
import { perTest } from './helpers/per-test.js';

const ALL = await backends();

describe.each(ALL)('the view column on $name', (backend) => {
  const fx = perTest(backend);
  const views = async () => (await fx.database.db.select({ subject: messages.subject, view: messages.view }).from(messages).orderBy(messages.id)).map((r) => [r.subject, r.view]);

  it('is the view class name through the queue transport, enqueueMail and enqueueMailMany; null for a plain message', async () => {
    const transporter = nodemailer.createTransport(createQueueTransport({ database: fx.database }));
    await new WelcomeMail({ name: 'Ana', loginUrl: 'https://app.example.com/login' }).send(transporter, { to: 'ana@example.com' });
    await transporter.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'plain', text: 'hi' });
    await fx.database.db.transaction(async (tx) => {
      await enqueueMail(tx, await new InvoiceMail({ number: '7', customer: 'Zoë', currency: 'EUR', lines: [] }).toMessage({ to: 'zoe@example.com' }));
    });
    await enqueueMailMany(fx.database, [
      { from: 'a@example.com', to: 'c@example.com', subject: 'bulk plain', text: 'x' },
      await new WelcomeMail({ name: 'Bo', loginUrl: 'https://app.example.com/login' }).toMessage({ to: 'bo@example.com' }),
    ]);
    expect(await views()).toEqual([
      ['Welcome, Ana!', 'WelcomeMail'],
      ['plain', null],
      ['Invoice 7', 'InvoiceMail'],
      ['bulk plain', null],
      ['Welcome, Bo!', 'WelcomeMail'],
    ]);
    transporter.close();
  });

  it('refuses a view name that is not a short string, storing nothing', async () => {
    await expect(enqueueMail(fx.database, { from: 'a@example.com', to: 'b@example.com', subject: 's', text: 't', view: 'Bad\nName' })).rejects.toThrow(InvalidMessageError);
    expect(await views()).toEqual([]);
  });
});
