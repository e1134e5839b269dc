import { Command, Option } from 'commander';
import { databaseOption } from '../options.js';
import { withDatabase } from '../run.js';
import { listSuppressions, suppress, unsuppress } from '../../store/suppressions.js';
import { SUPPRESSION_REASONS, type SuppressionRow } from '../../store/schema.js';
import { checkedTopic } from '../../suppression-input.js';
import { checkedAddress as checked } from '../../transport/validate.js';
import { say, jsonForTerminal, forTerminal } from '../terminal.js';

/** `--topic`: checked as a message's topic is; absent means every message. */
const topicOf = (topic: string | undefined): string => checkedTopic(topic, '--topic');

const COLUMNS = ['address', 'topic', 'reason', 'source', 'note', 'created_at'] as const;

function record(row: SuppressionRow) {
  return { address: row.address, topic: row.topic, reason: row.reason, source: row.source, note: row.note, created_at: row.createdAt.toISOString() };
}

/**
 * RFC 4180: a field with a comma or quote is quoted, its quotes doubled. Fields go through
 * forTerminal first (no escapes, line breaks as spaces): `--format json` keeps every character.
 */
function csvField(value: string): string {
  const safe = forTerminal(value);
  return /[",]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function csv(rows: SuppressionRow[]): string {
  const lines = [COLUMNS.join(','), ...rows.map((row) => COLUMNS.map((c) => csvField(record(row)[c])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}

const formatOption = (formats: string[], fallback: string) => new Option('--format <format>', 'output format').choices(formats).default(fallback);
const reasonOption = () => new Option('--reason <reason>', 'why').choices([...SUPPRESSION_REASONS]);

export const suppressCommand = () => {
  const command = new Command('suppress').description('the suppression list: addresses not mailed (for everything or one topic), and why');
  command
    .command('add')
    .description('suppress an address: queued and future mail to it is not sent, and its record says why')
    .argument('<address>')
    .option('--topic <topic>', 'only messages of this topic (default: every message)')
    .addOption(reasonOption().default('manual'))
    .option('--note <text>', 'kept with it, and on each message it stops', '')
    .addOption(databaseOption())
    .action(async (address: string, opts: { database: string; topic?: string; reason: SuppressionRow['reason']; note: string }) => {
      const topic = topicOf(opts.topic);
      await withDatabase(opts.database, async ({ db }) => {
        const added = await suppress(db, { address: checked(address), topic, reason: opts.reason, source: 'cli', note: opts.note });
        const scope = topic ? ` for topic ${topic}` : '';
        say(added ? `suppressed ${address}${scope}` : `${address} was already suppressed${scope}`);
      });
    });
  command
    .command('remove')
    .description('lift a suppression (the everything one, or one topic\'s)')
    .argument('<address>')
    .option('--topic <topic>', 'the topic suppression to lift (default: the one for every message)')
    .addOption(databaseOption())
    .action(async (address: string, opts: { database: string; topic?: string }) => {
      const topic = topicOf(opts.topic);
      await withDatabase(opts.database, async ({ db }) => {
        const removed = await unsuppress(db, checked(address), topic);
        const scope = topic ? ` for topic ${topic}` : '';
        say(removed ? `lifted ${address}${scope}` : `${address} was not suppressed${scope}`);
      });
    });
  command
    .command('list')
    .description('list suppressed addresses')
    .option('--topic <topic>', 'only this topic\'s')
    .addOption(reasonOption())
    .addOption(formatOption(['text', 'json', 'csv'], 'text'))
    .option('--json', 'the same as --format json')
    .addOption(databaseOption())
    .action(async (opts: { database: string; topic?: string; reason?: string; format: string; json?: boolean }) => {
      const topic = opts.topic === undefined ? undefined : topicOf(opts.topic);
      await withDatabase(opts.database, async ({ db }) => {
        const rows = await listSuppressions(db, { reason: opts.reason, topic });
        print(rows, opts.json ? 'json' : opts.format);
      });
    });
  command
    .command('export')
    .description('the whole list, for a spreadsheet or another system (CSV by default)')
    .addOption(formatOption(['csv', 'json'], 'csv'))
    .addOption(databaseOption())
    .action(async (opts: { database: string; format: string }) => {
      await withDatabase(opts.database, async ({ db }) => print(await listSuppressions(db), opts.format));
    });
  return command;
};

function print(rows: SuppressionRow[], format: string): void {
  if (format === 'json') return say(jsonForTerminal(rows.map(record)));
  if (format === 'csv') return void process.stdout.write(csv(rows));
  for (const row of rows) {
    say([row.address, row.topic || '*', row.reason, row.note].filter((v, i) => i < 3 || v).join('\t'));
  }
}
