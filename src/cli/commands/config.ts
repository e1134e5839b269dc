import { Command, type Option } from 'commander';
import { findConfig } from '../../config/load.js';
import { SETTINGS } from '../../config/settings.js';
import { redact } from '../../store/redact.js';
import { formatSeconds } from '../options.js';
import { jsonForTerminal, say } from '../terminal.js';
import { sendCommand } from './send.js';
import { workerCommand } from './worker.js';
import { previewCommand } from './preview.js';
import { checkCommand } from './check.js';

/** The options of send, worker, preview and check that a config file can set, once each: the file obeys their parsers, and `config` shows what they would use. */
export function settingOptions(): Option[] {
  const byFlag = new Map<string, Option>();
  for (const source of [sendCommand(), workerCommand(), previewCommand(), checkCommand()]) {
    for (const option of source.options) {
      const flag = option.attributeName();
      if (!byFlag.has(flag) && SETTINGS.some((s) => s.flag === flag)) byFlag.set(flag, option);
    }
  }
  return [...byFlag.values()];
}

/** Where a value came from, in the words a user would look for it under. */
function origin(command: Command, option: Option, file: string | undefined): string {
  switch (command.getOptionValueSource(option.attributeName())) {
    case 'cli':
      return `flag ${option.long}`;
    case 'env':
      return `environment ${option.envVar}`;
    case 'config':
      return `config file ${file}`;
    case 'default':
      return 'default';
    default:
      return 'not set';
  }
}

function shown(value: unknown, durationFlag: boolean): string {
  if (value === undefined) return '-';
  if (Array.isArray(value)) return redact(value.join(', ')) || '-'; // routes hold SMTP URLs
  if (durationFlag && typeof value === 'number') return formatSeconds(value);
  return redact(String(value)); // passwords in database and SMTP URLs
}

/**
 * `mailroom config`: every setting as the commands would resolve it here (the same
 * options, environment and config file), passwords hidden, with where each came from.
 */
export const configCommand = () => {
  const command = new Command('config').description('print the resolved settings (passwords hidden) and where each came from').option('--json', 'print JSON');
  for (const option of settingOptions()) command.addOption(option);
  return command.action((opts: Record<string, unknown>) => {
    const file = findConfig((command.parent?.opts() as { config?: string } | undefined)?.config);
    const rows = SETTINGS.map((setting) => {
      const option = command.options.find((o) => o.attributeName() === setting.flag)!;
      return { key: setting.path, value: opts[setting.flag], from: origin(command, option, file), duration: setting.type === 'duration' || setting.flag === 'lease' };
    });
    if (opts.json) {
      const resolved = Object.fromEntries(rows.map((r) => [r.key, { value: typeof r.value === 'string' ? redact(r.value) : Array.isArray(r.value) ? r.value.map((v) => redact(String(v))) : (r.value ?? null), from: r.from }]));
      say(jsonForTerminal({ configFile: file ?? null, settings: resolved }));
      return;
    }
    say(`config file: ${file ?? 'none (mailroom.config.ts, .mts, .js or .mjs here, or --config PATH)'}`);
    const width = Math.max(...rows.map((r) => r.key.length));
    const values = rows.map((r) => shown(r.value, r.duration));
    const valueWidth = Math.min(48, Math.max(...values.map((v) => v.length)));
    rows.forEach((r, i) => say(`${r.key.padEnd(width)}  ${values[i]!.padEnd(valueWidth)}  (${r.from})`));
  });
};
