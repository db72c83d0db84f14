/**
 * Start-up: the time from spawning the bot to the gateway IDENTIFY arriving at the local Discord-compatible server
 * (everything the bot does before it can serve: loading its code, configuration, database and migrations, engine
 * recovery, discord.js's REST discovery of the gateway). Ours as an operator starts it (`npm start`), the bundle on
 * node directly, the sources through tsx (how `npm start` ran before the bundle), and the bare discord.js bot.
 * The variants take turns, so a change in the machine's load falls on all of them.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { FakeDiscordServer } from '../test/discord-server/index.js';
import { REPO_ROOT } from '../test/support/bot-process.js';
import { describeMachine, flagValue, fmtMs, machineInfo, raisePriority, type Benchmark, type BenchmarkResult } from './harness.js';
import { buildBareBot, buildOurBot, processRssMiB, START_NODE_ARGS } from './load/bot-processes.js';
import { quantile } from './load/open-loop.js';
import { APP_ID, TOKEN, populateServer, seedDatabase } from './load/scenarios.js';

interface Variant {
  label: string;
  command: string[];
  /** The spawned process is the bot itself (not npm), so its memory is the bot's. */
  measureMemory: boolean;
}

interface Sample {
  identifyMs: number;
  /** Resident memory once the bot is ready (READY and GUILD_CREATE handled), MiB. */
  rssMiB: number | undefined;
}

async function startOnce(server: FakeDiscordServer, variant: Variant, env: Record<string, string>): Promise<Sample> {
  const identify = server.nextIdentify(60_000);
  const started = performance.now();
  const [file, ...args] = variant.command as [string, ...string[]];
  const child = spawn(file, args, { cwd: REPO_ROOT, env, stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const identifyMs = (await identify) - started;
    let rssMiB: number | undefined;
    if (variant.measureMemory && child.pid !== undefined) {
      await server.waitForReady(60_000);
      // A moment for the bot to handle READY and its guilds.
      await sleep(500);
      rssMiB = processRssMiB(child.pid);
    }
    return { identifyMs, rssMiB };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function run(flags: readonly string[]): Promise<BenchmarkResult> {
  const samples = Number(flagValue(flags, 'samples') ?? 7);
  const nice = Number(flagValue(flags, 'nice') ?? 0);
  if (nice !== 0) raisePriority(nice);
  const machine = describeMachine(machineInfo());
  const dir = mkdtempSync(join(tmpdir(), 'chatops-startup-'));
  const server = await FakeDiscordServer.start({ applicationId: APP_ID, botToken: TOKEN });
  try {
    await populateServer(server);
    // An existing database, as at every start but the first (the migrations are checked, none applied).
    seedDatabase(join(dir, 'chatops.db'));
    buildOurBot();
    const bareBot = await buildBareBot(dir);
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      DISCORD_TOKEN: TOKEN,
      DISCORD_APPLICATION_ID: APP_ID,
      DISCORD_API_URL: server.apiUrl,
      DATABASE_PATH: join(dir, 'chatops.db'),
      DEPLOYMENTS_DIR: join(dir, 'deployments'),
      npm_config_update_notifier: 'false',
    };
    const variants: Variant[] = [
      { label: '`npm start` (checks the bundle is current, then `node dist/main.js`)', command: ['npm', 'start'], measureMemory: false },
      { label: `\`node ${START_NODE_ARGS.join(' ')} dist/main.js\` (the bundle on plain node, as \`npm start\` runs it)`, command: ['node', ...START_NODE_ARGS, 'dist/main.js'], measureMemory: true },
      {
        label: '`node --import tsx src/main.ts` (the sources through tsx: `npm start` before the bundle)',
        command: ['node', '--import', 'tsx', 'src/main.ts'],
        measureMemory: true,
      },
      { label: 'bare discord.js bot (bundled, plain node)', command: ['node', bareBot], measureMemory: true },
    ];
    const results = new Map<Variant, Sample[]>(variants.map((variant) => [variant, []]));
    for (let i = 0; i < samples; i++) {
      for (const variant of variants) results.get(variant)?.push(await startOnce(server, variant, env));
    }
    const rows = variants.map((variant) => {
      const taken = results.get(variant) ?? [];
      const sorted = taken.map((sample) => sample.identifyMs).sort((a, b) => a - b);
      const memory = taken.flatMap((sample) => (sample.rssMiB === undefined ? [] : [sample.rssMiB])).sort((a, b) => a - b);
      return [
        variant.label,
        `${fmtMs(quantile(sorted, 0.5))} (${fmtMs(sorted[0] ?? NaN)}–${fmtMs(sorted.at(-1) ?? NaN)})`,
        memory.length ? `${quantile(memory, 0.5).toFixed(0)} MiB` : '– (npm\'s own process)',
      ] as const;
    });
    const markdown = [
      `Machine: ${machine}.${nice !== 0 ? ` The benchmark and the bots ran at nice ${nice}, ahead of the machine's other work.` : ''}`,
      '',
      `| Started as | Spawn to IDENTIFY: median (min–max) of ${samples} | Resident memory when ready (median) |`,
      '| --- | --- | --- |',
      ...rows.map(([label, value, memory]) => `| ${label} | ${value} | ${memory} |`),
      '',
      'Target: 1.5 s. Measured from `spawn()` in the benchmark to the IDENTIFY frame at the local Discord-compatible server,',
      'against an existing database, the variants taking turns. `npm start` includes npm itself and its `prestart` check',
      '(`scripts/build.mjs --if-stale`, which finds the bundle current and builds nothing).',
    ].join('\n');
    return { lines: [...rows.map(([label, value, memory]) => `  ${label}: ${value}, ${memory}`), `  Machine: ${machine}`], markdown };
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const startupBenchmark: Benchmark = {
  id: 'startup',
  title: 'Start-up to the gateway IDENTIFY',
  run,
};
