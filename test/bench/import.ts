import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Figure, Row } from './lib/figure.js';
import { check, run } from './lib/proc.js';
import { NODE, ROOT, scratch } from './lib/paths.js';
import { fmt, median, sideBySide, spread } from './lib/stats.js';

const importOf = (file: string) => `await import(${JSON.stringify(join(ROOT, 'dist', file))});`;
/** What an app that only queues mail loads when it imports mailroom (the compiled package). */
const MAILROOM = importOf('index.js');
/** The other entry points, measured beside the same baseline for the README (no target). */
const SUBPATHS = [
  { name: 'mailroom/drain', body: importOf('drain/index.js') },
  { name: 'mailroom/schema', body: importOf('store/index.js') },
];
/** The same app without mailroom: the three libraries mailroom is built on. */
const BASELINE = `await Promise.all([import('nodemailer'), import('drizzle-orm'), import('@react-email/render')]);`;

/**
 * A fresh Node process importing `body`: its import time, the CPU time that took (user +
 * system: what a busy machine inflates least, as it leaves out waiting for a core) and its
 * RSS afterwards.
 */
async function importCost(body: string): Promise<{ ms: number; cpuMs: number; rssMb: number }> {
  const script = `const t0 = performance.now(); const c0 = process.cpuUsage(); ${body} const c = process.cpuUsage(c0); console.log(JSON.stringify({ ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000, rssMb: process.memoryUsage().rss / 2 ** 20 }));`;
  const result = check(await run(NODE, ['--input-type=module', '-e', script], { env: { NODE_ENV: 'production' } }), 'import');
  return JSON.parse(result.stdout.trim()) as { ms: number; cpuMs: number; rssMb: number };
}

/** Packages (folders with a package.json, nested ones too) under a node_modules folder. */
function countPackages(modules: string): number {
  if (!existsSync(modules)) return 0;
  let count = 0;
  for (const entry of readdirSync(modules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const folders = entry.name.startsWith('@') ? readdirSync(join(modules, entry.name)).map((n) => join(modules, entry.name, n)) : [join(modules, entry.name)];
    for (const folder of folders) {
      if (existsSync(join(folder, 'package.json'))) count++;
      count += countPackages(join(folder, 'node_modules'));
    }
  }
  return count;
}

/** `npm install --omit=dev` of `specs` into a fresh folder: its size and package count. */
function installSize(specs: string[], dir: string): { mb: number; packages: number } {
  writeFileSync(join(dir, 'package.json'), '{"name":"fresh-app","private":true}');
  execFileSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...specs], { cwd: dir, stdio: 'ignore' });
  const kb = Number(execFileSync('du', ['-sk', join(dir, 'node_modules')], { encoding: 'utf8' }).split('\t')[0]);
  return { mb: kb / 1024, packages: countPackages(join(dir, 'node_modules')) };
}

export const importFigure: Figure = {
  name: 'import',
  title: "Import cost: `import 'mailroom'` (and its other entry points) vs nodemailer + drizzle-orm + @react-email/render alone; production install size",
  async run({ quick, log }) {
    const rounds = quick ? 3 : 9;
    const { a, b } = await sideBySide(rounds, () => importCost(MAILROOM), () => importCost(BASELINE));
    const ms = { mailroom: median(a.map((r) => r.ms)), baseline: median(b.map((r) => r.ms)) };
    const rss = { mailroom: median(a.map((r) => r.rssMb)), baseline: median(b.map((r) => r.rssMb)) };
    const cpu = { mailroom: median(a.map((r) => r.cpuMs)), baseline: median(b.map((r) => r.cpuMs)) };
    log(`import ${fmt(ms.mailroom)} ms / ${fmt(rss.mailroom)} MB; baseline ${fmt(ms.baseline)} ms / ${fmt(rss.baseline)} MB`);
    const rows: Row[] = [
      {
        figure: 'import time',
        measured: `\`import 'mailroom'\` ${fmt(ms.mailroom)} ms`,
        baseline: `nodemailer + drizzle-orm + @react-email/render ${fmt(ms.baseline)} ms`,
        ratio: ms.mailroom / ms.baseline,
        target: '≤ 1.3',
        pass: ms.mailroom / ms.baseline <= 1.3,
        noise: spread(b.map((r) => r.ms)),
      },
      {
        figure: 'import CPU time',
        measured: `${fmt(cpu.mailroom)} ms`,
        baseline: `${fmt(cpu.baseline)} ms`,
        ratio: cpu.mailroom / cpu.baseline,
        target: '',
        noise: spread(b.map((r) => r.cpuMs)),
      },
      {
        figure: 'import RSS',
        measured: `${fmt(rss.mailroom)} MB`,
        baseline: `${fmt(rss.baseline)} MB`,
        ratio: rss.mailroom / rss.baseline,
        target: '≤ 1.3',
        pass: rss.mailroom / rss.baseline <= 1.3,
        noise: spread(b.map((r) => r.rssMb)),
      },
    ];
    for (const entry of SUBPATHS) {
      const sub = await sideBySide(rounds, () => importCost(entry.body), () => importCost(BASELINE));
      const subMs = median(sub.a.map((r) => r.ms));
      const baseMs = median(sub.b.map((r) => r.ms));
      log(`import ${entry.name} ${fmt(subMs)} ms / ${fmt(median(sub.a.map((r) => r.rssMb)))} MB; baseline ${fmt(baseMs)} ms`);
      rows.push({
        figure: `import time, ${entry.name}`,
        measured: `\`import '${entry.name}'\` ${fmt(subMs)} ms, ${fmt(median(sub.a.map((r) => r.rssMb)))} MB`,
        baseline: `${fmt(baseMs)} ms, ${fmt(median(sub.b.map((r) => r.rssMb)))} MB`,
        ratio: subMs / baseMs,
        target: '',
        noise: spread(sub.b.map((r) => r.ms)),
      });
    }
    // The install an app pays for: the packed tarball into a fresh folder, beside the same
    // folder with only what mailroom asks the app to have (its required peers) and nodemailer.
    const dir = scratch('install');
    try {
      const packed = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const tarball = join(dir, (JSON.parse(packed.slice(packed.indexOf('['))) as { filename: string }[])[0]!.filename);
      const mine = scratch('install-mailroom');
      const base = scratch('install-baseline');
      try {
        const measured = installSize([tarball], mine);
        const baseline = installSize(['nodemailer', 'drizzle-orm@^0.45', '@react-email/render', 'react', 'react-dom'], base);
        log(`install: mailroom ${fmt(measured.mb, 1)} MB in ${measured.packages} packages; baseline ${fmt(baseline.mb, 1)} MB in ${baseline.packages}`);
        rows.push({
          figure: 'install --omit=dev',
          measured: `${fmt(measured.mb, 1)} MB, ${measured.packages} packages`,
          baseline: `nodemailer + drizzle-orm + @react-email/render + react + react-dom: ${fmt(baseline.mb, 1)} MB, ${baseline.packages} packages`,
          ratio: measured.mb / baseline.mb,
          target: '',
        });
      } finally {
        rmSync(mine, { recursive: true, force: true });
        rmSync(base, { recursive: true, force: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return rows;
  },
};
