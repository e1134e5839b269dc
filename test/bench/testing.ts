import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Figure, Row } from './lib/figure.js';
import { ROOT } from './lib/paths.js';
import { fmt, median, percentile, sideBySide, spread } from './lib/stats.js';

type Testing = typeof import('../../src/testing/index.js');

/**
 * What an app's test suite pays per test with mailroom/testing (the compiled package):
 * a test mailroom created and closed, and a reset after a test that queued and sent
 * mail; beside a hand-rolled nodemailer mock (jsonTransport), what such suites use today.
 */
export const testingFigure: Figure = {
  name: 'testing',
  title: 'mailroom/testing: creating a test mailroom (after the first) and resetting one, vs a nodemailer jsonTransport mock',
  async run({ quick, log }) {
    const { createTestMailroom } = (await import(join(ROOT, 'dist/testing/index.js'))) as Testing;
    const rounds = quick ? 10 : 60;
    let t0 = performance.now();
    const first = await createTestMailroom();
    const firstMs = performance.now() - t0;
    await first.close();
    log(`first test mailroom ${fmt(firstMs)} ms (starts the in-memory database once per process)`);

    const mock = async () => {
      const t = performance.now();
      const transporter = nodemailer.createTransport({ jsonTransport: true });
      await transporter.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 's', text: 't' });
      transporter.close();
      return performance.now() - t;
    };
    const { a: creates, b: mocks } = await sideBySide(
      rounds,
      async () => {
        const t = performance.now();
        const mail = await createTestMailroom();
        const ms = performance.now() - t;
        await mail.close();
        return ms;
      },
      mock,
    );

    // A reset after a test that queued 10 messages and delivered 5 of them.
    const mail = await createTestMailroom();
    const resets: number[] = [];
    try {
      for (let round = 0; round < rounds; round++) {
        for (let i = 0; i < 10; i++) {
          await mail.transporter.sendMail({ from: 'a@example.com', to: `u${i}@example.com`, subject: `s${i}`, text: 't', sendAt: i < 5 ? undefined : new Date(Date.now() + 3_600_000) } as never);
        }
        await mail.deliverAll();
        t0 = performance.now();
        await mail.reset();
        resets.push(performance.now() - t0);
      }
    } finally {
      await mail.close();
    }
    const create = median(creates);
    const reset = median(resets);
    const baseline = median(mocks);
    log(`create ${fmt(create, 1)} ms (p90 ${fmt(percentile(creates, 90), 1)}), reset ${fmt(reset, 1)} ms (p90 ${fmt(percentile(resets, 90), 1)}), mock ${fmt(baseline, 2)} ms`);
    const rows: Row[] = [
      {
        figure: 'testing: create',
        measured: `createTestMailroom() ${fmt(create, 1)} ms (first ${fmt(firstMs)} ms)`,
        baseline: `jsonTransport mock ${fmt(baseline, 2)} ms`,
        ratio: null,
        target: '≤ 50 ms',
        pass: create <= 50,
        noise: spread(mocks),
      },
      {
        figure: 'testing: reset',
        measured: `mail.reset() ${fmt(reset, 1)} ms`,
        baseline: `jsonTransport mock ${fmt(baseline, 2)} ms`,
        ratio: null,
        target: '≤ 50 ms',
        pass: reset <= 50,
        noise: spread(mocks),
      },
    ];
    return rows;
  },
};
