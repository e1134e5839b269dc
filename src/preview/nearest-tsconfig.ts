import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

// Apart from templates.ts so that `mailroom new` can find it without loading the preview's
// optional packages (mailparser).

/** The tsconfig.json nearest the emails folder (its own, or the app's above it): its `jsx` and `paths` compile the templates. */
export function nearestTsconfig(dir: string): string | undefined {
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, 'tsconfig.json');
    if (existsSync(candidate)) return candidate;
    if (dirname(at) === at) return undefined;
  }
}
