// The queue records which mail view built each message (the `view` column): what the
// outbox shows and filters on, and what mailroom/testing's queued()/expectQueued() match.
// The queue is each backend's database, handed to mailroom/testing as an app hands its own.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { enqueueMail, enqueueMailMany, InvalidMessageError } from 'mailroom';
import { createTestMailroom, type TestMailroom } from 'mailroom/testing';
import { InvoiceMail, WelcomeMail } from '../emails/_views/index.js';
import { backends } from './helpers/databases.js';
import { perTest } from './helpers/per-test.js';

const ALL = await backends();

describe.each(ALL)('the view column on $name', (backend) => {
  const fx = perTest(backend);
  let mail: TestMailroom;
  beforeEach(async () => {
    mail = await createTestMailroom({ database: fx.database });
  });
  afterEach(() => mail.close());
  const views = async () => (await mail.queued()).map((m) => [m.subject, m.view]);

  it('is the view class name through the queue transport, enqueueMail and enqueueMailMany; null for a plain message', async () => {
    const transporter = mail.transporter;
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
  });

  it('refuses a view name that is not a short string, storing nothing', async () => {
    await expect(enqueueMail(fx.database, { from: 'a@example.com', to: 'b@example.com', subject: 's', text: 't', view: 'Bad\nName' })).rejects.toThrow(InvalidMessageError);
    expect(await views()).toEqual([]);
  });
});
