import { CommanderError, InvalidArgumentError, type Command, type Option } from 'commander';
import { ConfigError } from '../errors.js';
import { findConfig, loadConfig } from '../config/load.js';
import { settingOptions } from './commands/config.js';

/**
 * Applies `mailroom.config.ts` (or `--config PATH`) to the command about to run. Commander
 * has already set flags (source `cli`) and environment variables (`env`); a file value
 * replaces only a default or an unset option, so flags beat the environment beats the
 * file beats the defaults. Each value goes through its flag's own parser: a file obeys
 * the same ranges, and a value outside one is a ConfigError naming the key.
 * Returns the file applied, if any.
 */
export async function applyConfigFile(root: Command, command: Command): Promise<string | undefined> {
  const file = findConfig(root.opts<{ config?: string }>().config);
  if (file === undefined) return undefined;
  const { values } = await loadConfig(file);
  // Every value is checked, whichever command runs: a wrong file fails `status` too, not only `send`.
  const parsers = new Map<string, Option>(settingOptions().map((o) => [o.attributeName(), o]));
  const parsed = [...values].map(([path, { setting, value }]) => ({ flag: setting.flag, value: parse(file, path, parsers.get(setting.flag)!, value) }));
  const own = new Set(command.options.map((o) => o.attributeName()));
  for (const { flag, value } of parsed) {
    if (!own.has(flag)) continue; // not this command's setting (e.g. preview.port for send)
    const source = command.getOptionValueSource(flag);
    if (source !== undefined && source !== 'default') continue;
    command.setOptionValueWithSource(flag, value, 'config');
  }
  return file;
}

function parse(file: string, path: string, option: Option, value: unknown): unknown {
  if (typeof value === 'boolean' || !option.parseArg) return Array.isArray(value) ? value.join(',') : value;
  try {
    return option.parseArg(Array.isArray(value) ? value.join(',') : String(value), undefined as never);
  } catch (error) {
    if (error instanceof InvalidArgumentError || error instanceof CommanderError) throw new ConfigError(`${file}: "${path}": ${error.message}`);
    throw error;
  }
}
