/**
 * `npm run bench [id ...] [--no-write] [--flag ...]`: runs the registered benchmarks (all, or those named), prints
 * their results, and rewrites each one's section of docs/performance.md. Text outside the sections is kept. Other
 * `--` flags go to the benchmarks (interactions: `--loaded`, `--runs=N`, `--seconds=N`, `--rates=500,1000`,
 * `--bots=ours`, `--scenarios=projects,autocomplete`, `--warm-up=N`, `--profile-dir=DIR`, `--bare-work=US`, `--bare-node-args=FLAGS`, `--keep`, `--before=FILE`
 * (our bot from an earlier bundle too, in the same runs); both interactions and startup: `--nice=-10` on a shared
 * machine; shards: `--shards=1,2,4`, `--rates=...`, `--seconds=N`, `--grants=N`, `--database=sqlite`, `--nice=-10`,
 * `--keep`).
 * To add a benchmark: write bench/<name>.bench.ts exporting a Benchmark and list it in BENCHMARKS.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchmarkRefused, type Benchmark } from './harness.js';
import { growthBenchmark } from './growth.bench.js';
import { interactionsBenchmark } from './interactions.bench.js';
import { jitExpiryBenchmark } from './jit-expiry.bench.js';
import { shardsBenchmark } from './shards.bench.js';
import { startupBenchmark } from './startup.bench.js';
import { ttlBenchmark } from './ttl.bench.js';
import { vaultBenchmark } from './vault.bench.js';

const BENCHMARKS: Benchmark[] = [jitExpiryBenchmark, ttlBenchmark, growthBenchmark, vaultBenchmark, startupBenchmark, interactionsBenchmark, shardsBenchmark];

const DOC = resolve(dirname(fileURLToPath(import.meta.url)), '../docs/performance.md');
const DOC_HEADER = `# Performance

Figures measured by \`npm run bench\` (code in \`bench/\`). Each section below is rewritten by the benchmark that owns
it, with the machine it ran on; run \`npm run bench -- <id>\` to refresh one. Text outside the marked sections is kept.
`;

function replaceSection(doc: string, { id, title }: { id: string; title: string }, body: string): string {
  const start = `<!-- bench:${id}:start -->`;
  const end = `<!-- bench:${id}:end -->`;
  const section = `${start}\n## ${title}\n\n${body}\n${end}`;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from >= 0 && to > from) return doc.slice(0, from) + section + doc.slice(to + end.length);
  return `${doc.trimEnd()}\n\n${section}\n`;
}

// Ctrl-C or a kill: exit through 'exit', where the benchmarks stop the processes they started.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const write = !args.includes('--no-write');
  const wanted = args.filter((arg) => !arg.startsWith('--'));
  const unknown = wanted.filter((id) => !BENCHMARKS.some((b) => b.id === id));
  if (unknown.length > 0) {
    process.stderr.write(`Unknown benchmark(s): ${unknown.join(', ')}. Known: ${BENCHMARKS.map((b) => b.id).join(', ')}\n`);
    process.exit(2);
  }
  const selected = wanted.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => wanted.includes(b.id));
  const sections: Array<{ id: string; title: string; markdown: string }> = [];
  for (const benchmark of selected) {
    process.stdout.write(`${benchmark.title}\n`);
    let result;
    try {
      result = await benchmark.run(args.filter((arg) => arg.startsWith('--') && arg !== '--no-write'));
    } catch (error) {
      if (!(error instanceof BenchmarkRefused)) throw error;
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    process.stdout.write(`${result.lines.join('\n')}\n\n`);
    sections.push({ ...(result.section ?? benchmark), markdown: result.markdown });
  }
  if (write) {
    // Read now, not before the benchmarks ran (they can take half an hour): edits made meanwhile are kept.
    let doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : DOC_HEADER;
    for (const section of sections) doc = replaceSection(doc, section, section.markdown);
    writeFileSync(DOC, doc);
    process.stdout.write(`Results written to ${DOC}\n`);
  }
}

await main();
