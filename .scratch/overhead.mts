import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { RunStopper } from '../src/engine/process.ts';
import { engineExecutorFor } from '../src/engine/sandbox-check.ts';
const ws = mkdtempSync(join(tmpdir(), 'overhead-'));
const logger = pino({ level: 'silent' });
const opts = { readOnlyPaths: [], deploymentsRoot: '/tmp/none-deployments', databasePath: '/tmp/none-db/x.db', pathEnv: process.env.PATH!, logger };
const execs = { off: engineExecutorFor({ sandbox: 'off', ...opts }), bwrap: engineExecutorFor({ sandbox: 'bwrap', ...opts }) };
const N = Number(process.argv[2] ?? 20);
for (const round of [1, 2]) for (const [name, ex] of Object.entries(execs)) {
  const times: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    const r = await ex.run({ binary: '/usr/local/bin/terraform', args: ['version', '-json'], cwd: ws, env: { PATH: '/usr/bin:/bin', HOME: join(ws, '.home'), TF_PLUGIN_CACHE_DIR: join(ws, 'cache') }, guildId: '1', stopper: new RunStopper(1000), collectStdout: true });
    if (r.exitCode !== 0) throw new Error(r.stderrTail);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  if (round === 2) console.log(name, 'median', times[Math.floor(N / 2)].toFixed(1), 'ms', 'p90', times[Math.floor(N * 0.9)].toFixed(1));
}
