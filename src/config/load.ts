import { existsSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import { loadOptional } from '../optional.js';
import { redact } from '../store/redact.js';
import { SECTIONS, SETTINGS, type Setting } from './settings.js';

/** Looked for in the current directory, in this order. */
export const CONFIG_FILES = ['mailroom.config.ts', 'mailroom.config.mts', 'mailroom.config.js', 'mailroom.config.mjs'];

export interface LoadedConfig {
  /** Absolute path of the file. */
  file: string;
  /** Each setting present in the file, by its path (`drain.lease`), checked for type. */
  values: Map<string, { setting: Setting; value: unknown }>;
}

/** The config file `--config PATH` names (it must exist), else the first of CONFIG_FILES in `cwd`, else none. */
export function findConfig(explicit: string | undefined, cwd = process.cwd()): string | undefined {
  if (explicit !== undefined) {
    const file = resolve(cwd, explicit);
    if (!existsSync(file)) throw new ConfigError(`Config file ${file} does not exist: check --config.`);
    return file;
  }
  return CONFIG_FILES.map((name) => resolve(cwd, name)).find((file) => existsSync(file));
}

/** Imports the file (.ts/.mts through tsx, an optional peer loaded only then) and checks every key and type. */
export async function loadConfig(file: string): Promise<LoadedConfig> {
  const url = pathToFileURL(file).href;
  const typescript = ['.ts', '.mts', '.cts'].includes(extname(file));
  let module: { default?: unknown };
  try {
    if (typescript) {
      const { tsImport } = await loadOptional(() => import('tsx/esm/api'), `The config file ${basename(file)}`, ['tsx']);
      module = await tsImport(url, import.meta.url);
    } else {
      module = await import(url);
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`Cannot load ${file}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
  return { file, values: checkConfig(file, unwrapDefault(module.default)) };
}

/** A .ts file compiled as CommonJS (no "type": "module" nearby) arrives as `{ default: config }`. */
function unwrapDefault(value: unknown): unknown {
  let config = value;
  while (isObject(config) && 'default' in config && Object.keys(config).every((k) => k === 'default' || k === '__esModule')) config = config.default;
  return config;
}

const TYPE_NAMES = { string: 'a string', number: 'a number', duration: 'a number of seconds or a duration such as "90s"', boolean: 'true or false', 'string[]': 'an array of strings', size: 'a number of bytes or a size such as "10MB"' };

function hasType(value: unknown, type: Setting['type']): boolean {
  switch (type) {
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'duration':
    case 'size':
      return typeof value === 'number' || typeof value === 'string';
    default:
      return typeof value === type;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every key known and of its type, or a ConfigError naming the key. Undefined values count as absent. */
export function checkConfig(file: string, config: unknown): LoadedConfig['values'] {
  if (!isObject(config)) throw new ConfigError(`${file} must export default defineConfig({ … }) (an object).`);
  const byPath = new Map(SETTINGS.map((s) => [s.path, s]));
  const values: LoadedConfig['values'] = new Map();
  const visit = (object: Record<string, unknown>, prefix: string) => {
    for (const [key, value] of Object.entries(object)) {
      const path = prefix + key;
      if (value === undefined) continue;
      if (!prefix && SECTIONS.has(key)) {
        if (!isObject(value)) throw new ConfigError(`${file}: "${path}" must be an object.`);
        visit(value, `${path}.`);
        continue;
      }
      const setting = byPath.get(path);
      if (!setting) {
        const known = SETTINGS.filter((s) => s.path.startsWith(prefix)).map((s) => s.path.slice(prefix.length)).filter((k) => prefix || !k.includes('.'));
        throw new ConfigError(`${file}: unknown setting "${path}". Known${prefix ? ` in ${prefix.slice(0, -1)}` : ''}: ${[...new Set(known.map((k) => k.split('.')[0]))].join(', ')}.`);
      }
      if (!hasType(value, setting.type)) throw new ConfigError(`${file}: "${path}" must be ${TYPE_NAMES[setting.type]}, not ${redact(JSON.stringify(value) ?? typeof value)}.`);
      values.set(path, { setting, value });
    }
  };
  visit(config, '');
  return values;
}
