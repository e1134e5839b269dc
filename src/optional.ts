import { ConfigError } from './errors.js';

/**
 * Loads a package mailroom lists as an optional peer (the embedded database, the preview
 * server, tsx): an app that only enqueues never installs or loads them. When one is
 * missing, the error names what to install instead of Node's bare ERR_MODULE_NOT_FOUND.
 */
export async function loadOptional<T>(load: () => Promise<T>, feature: string, packages: string[]): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const e = error as { code?: string; message?: string };
    const missing = (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && packages.some((p) => e.message?.includes(`'${p}`));
    if (!missing) throw error;
    throw new ConfigError(`${feature} needs ${packages.join(', ')}, which ${packages.length === 1 ? 'is' : 'are'} not installed: run npm install ${packages.join(' ')}`, { cause: error });
  }
}
