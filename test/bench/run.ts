/**
 * `npm run bench [-- FIGURE…] [-- --quick]`: each figure as a ratio to a baseline measured
 * side by side in the same run, medians over alternating rounds. Needs Postgres at
 * TEST_POSTGRES_URL (default 127.0.0.1:5432) and Postfix's smtp-sink (installed if missing).
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus, totalmem } from 'node:os';
import postgres from 'postgres';
import type { Context, Figure, Row } from './lib/figure.js';
import { drainFigure } from './drain.js';
import { enqueueFigure } from './enqueue.js';
import { bulkFigure } from './bulk.js';
import { renderFigure } from './render.js';
import { memoryFigure } from './memory.js';
import { workerFigure } from './worker.js';
import { scaleFigure } from './scale.js';
import { importFigure } from './import.js';
import { callersFigure } from './callers.js';
import { testingFigure } from './testing.js';
import { bigQueueFigure } from './big-queue.js';
import { throttleFigure } from './throttle.js';
import { POSTGRES_ADMIN_URL } from '../helpers/databases.js';
import { fmt } from './lib/stats.js';

const FIGURES: Figure[] = [drainFigure, enqueueFigure, callersFigure, bulkFigure, renderFigure, memoryFigure, workerFigure, scaleFigure, importFigure, testingFigure, bigQueueFigure, throttleFigure];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const names = args.filter((a) => !a.startsWith('-'));
const unknown = names.filter((n) => !FIGURES.some((f) => f.name === n));
if (unknown.length) {
  console.error(`unknown figure ${unknown.join(', ')}: choose from ${FIGURES.map((f) => f.name).join(', ')}`);
  process.exit(2);
}
const chosen = names.length ? FIGURES.filter((f) => names.includes(f.name)) : FIGURES;

async function postgresVersion(): Promise<string> {
  const sql = postgres(POSTGRES_ADMIN_URL, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    const [row] = await sql`show server_version`;
    return `PostgreSQL ${row!.server_version}`;
  } catch (error) {
    console.error(`Postgres is not reachable at ${POSTGRES_ADMIN_URL} (set TEST_POSTGRES_URL): ${(error as Error).message}`);
    process.exit(1);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

function table(rows: Row[]): string {
  const head = ['figure', 'measured', 'baseline (same run)', 'ratio', 'target', '', 'noise'];
  const body = rows.map((r) => [
    r.figure,
    r.measured,
    r.baseline,
    r.ratio === null ? '' : fmt(r.ratio, 2),
    r.target,
    r.pass === undefined ? '' : r.pass ? 'met' : 'MISSED',
    r.noise === undefined ? '' : `±${fmt(r.noise * 100)}%`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

// The figures run the compiled CLI, as users do: bin/mailroom.js falls back to tsx
// (slower to start) when dist/ is older than src/, so build first (~2 s).
const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
if (build.status !== 0) {
  console.error('npm run build failed: the bench measures the compiled CLI.');
  process.exit(1);
}

const machine = `${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'cpu'}), ${fmt(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${await postgresVersion()}`;
console.log(`mailroom bench${quick ? ' --quick' : ''}: ${chosen.map((f) => f.name).join(', ')}\n${machine}\n`);
const started = performance.now();
const rows: Row[] = [];
let failed = false;
for (const figure of chosen) {
  const t0 = performance.now();
  console.log(`▶ ${figure.title}`);
  const context: Context = { quick, log: (m) => console.log(`  ${m}`) };
  try {
    rows.push(...(await figure.run(context)));
  } catch (error) {
    failed = true;
    console.error(`  ${figure.name} failed: ${(error as Error)?.stack ?? error}`);
    rows.push({ figure: figure.name, measured: `error: ${(error as Error)?.message?.split('\n')[0]}`, baseline: '', ratio: null, target: '' });
  }
  console.log(`  (${fmt((performance.now() - t0) / 1000)} s)\n`);
}
console.log(table(rows));
console.log(`\n${machine}; ${fmt((performance.now() - started) / 1000)} s in all.`);
if (rows.some((r) => (r.noise ?? 0) > 0.15)) {
  console.log('Some figures are noisy (rounds of the baseline spread over ±15%): the machine was busy; rerun when it is quiet.');
}
console.log('Ratios: throughput ours/baseline (drain, bulk, scale), throughput ours/baseline (callers), latency ours/baseline (enqueue, worker), serial/pool time (render), large/small peak RSS (memory).');
console.log('Rerun: npm run bench · one figure: npm run bench -- drain · smoke run: npm run bench -- --quick');
console.log(`Figures: ${FIGURES.map((f) => f.name).join(', ')}`);
process.exit(failed ? 1 : 0);
