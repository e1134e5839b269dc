import { join } from 'node:path';
import type { Figure } from './lib/figure.js';
import { check, run } from './lib/proc.js';
import { bundle } from './lib/bundle.js';
import { NODE, PROCS } from './lib/paths.js';
import { median, fmt, spread } from './lib/stats.js';
import type { CallerRates } from './procs/callers.js';

const CALLERS = 64;

export const callersFigure: Figure = {
  name: 'callers',
  title: `Many callers at once: ${CALLERS} concurrent sends vs postgres.js INSERTs alone (pool of 10)`,
  async run({ quick, log }) {
    const seconds = quick ? 1 : 4;
    const rounds = quick ? 1 : 3;
    const script = await bundle(join(PROCS, 'callers.ts'));
    const rates = JSON.parse(check(await run(NODE, [script, String(CALLERS), String(seconds), String(rounds)]), 'callers').stdout) as CallerRates;
    const list = (xs: number[]) => xs.map((x) => fmt(x)).join('/');
    log(`${CALLERS} callers × ${seconds} s, per round: sendMail ${list(rates.sendMail)}, INSERT alone ${list(rates.insert)}, view.send ${list(rates.viewSend)}, render ${list(rates.render)} /s`);
    const [send, insert, viewSend, render] = [median(rates.sendMail), median(rates.insert), median(rates.viewSend), median(rates.render)];
    // Render and sendMail one after the other: each call costs the sum of both's times.
    const parts = 1 / (1 / render + 1 / send);
    return [
      {
        figure: '9 callers sendMail',
        measured: `sendMail ${fmt(send)}/s (${CALLERS} callers)`,
        baseline: `postgres.js INSERTs ${fmt(insert)}/s`,
        ratio: send / insert,
        target: '≥ 0.9',
        pass: send / insert >= 0.9,
        noise: spread(rates.insert),
      },
      {
        figure: '9 callers view.send',
        measured: `view.send ${fmt(viewSend)}/s`,
        baseline: `render ${fmt(render)}/s + sendMail: ${fmt(parts)}/s`,
        ratio: viewSend / parts,
        target: '≥ 0.9',
        pass: viewSend / parts >= 0.9,
        noise: spread(rates.render),
      },
    ];
  },
};
