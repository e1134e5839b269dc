import { Command } from 'commander';
import { databaseOption, wholeNumber } from '../options.js';
import { withDatabase } from '../run.js';
import { loadOptional } from '../../optional.js';
import { reportMessages } from '../../bounces/sources.js';
import { readReport } from '../../bounces/report.js';
import { MAX_REPORT_EVENTS, recordReport, type BounceOutcome } from '../../bounces/record.js';
import { say, jsonForTerminal } from '../terminal.js';

const KIND = { hard: 'hard bounce', soft: 'soft bounce', complaint: 'complaint' } as const;

function line(source: string, o: BounceOutcome): string {
  const what = `${KIND[o.kind]} ${o.address ?? '(no address)'}${o.status ? ` ${o.status}` : ''}`;
  const message = o.message !== undefined ? ` (message ${o.message})` : '';
  const result = o.skipped ? `skipped: ${o.skipped}` : o.duplicate ? 'already read' : o.suppressed ? 'suppressed' : 'recorded';
  return `${source}: ${what}${message}: ${result}`;
}

export const bouncesCommand = () =>
  new Command('bounces')
    .description('read bounce reports (RFC 3464 DSNs, VERP bounces) and complaints (ARF) and suppress those addresses')
    .argument('[sources...]', 'message files, mboxes or Maildirs; none or - reads one message from standard input')
    .option('--soft-limit <n>', 'soft bounces (4.x.x) within --soft-window that suppress an address', wholeNumber(1, 1000), 3)
    .option('--soft-window <days>', 'days soft bounces are counted over', wholeNumber(1, 3650), 30)
    .option('--trust-unmatched', 'also suppress addresses of reports that match no message mailroom sent (only for a source nobody else can write to)')
    .option('--max-recipients <n>', 'skip a report naming more recipients than this', wholeNumber(1, 1_000_000), MAX_REPORT_EVENTS)
    .option('--json', 'print one JSON object per event')
    .addOption(databaseOption())
    .action(async (sources: string[], opts: { database: string; softLimit: number; softWindow: number; trustUnmatched?: boolean; maxRecipients: number; json?: boolean }) => {
      const { simpleParser } = await loadOptional(() => import('mailparser'), 'mailroom bounces', ['mailparser']);
      await withDatabase(opts.database, async ({ db }) => {
        let read = 0;
        for await (const { name, bytes } of reportMessages(sources)) {
          read++;
          const report = readReport(bytes, await simpleParser(bytes, { skipHtmlToText: true, skipTextLinks: true }));
          if (report.skipped) {
            if (opts.json) say(jsonForTerminal({ source: name, skipped: report.skipped }));
            else say(`${name}: skipped: ${report.skipped}`);
            continue;
          }
          for (const outcome of await recordReport(db, report, { softLimit: opts.softLimit, softWindowDays: opts.softWindow, trust: opts.trustUnmatched ? 'any' : 'matched', maxEvents: opts.maxRecipients })) {
            say(opts.json ? jsonForTerminal({ source: name, ...outcome }) : line(name, outcome));
          }
        }
        if (read === 0) say('no messages found');
      });
    });
