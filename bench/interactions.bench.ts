/**
 * Interactions under load: our bot against a bare discord.js 14 bot, in the same run, through the same local
 * Discord-compatible server (test/discord-server), both real child processes on plain node. An open-loop sender
 * dispatches each scenario at 500/s and 1000/s for 10 s; the figures are the acknowledgement delays (p50, p99,
 * max, missed after 3 s) and each bot's CPU per interaction. `--loaded` runs the same with engine-like CPU work
 * in other processes (bench/load/cpu-hogs.ts). `--runs=N` (default 3) repeats it all and reports medians.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FakeDiscordServer } from '../test/discord-server/index.js';
import { describeMachine, flagValue, machineInfo, raisePriority, type Benchmark, type BenchmarkResult } from './harness.js';
import { buildBareBot, buildOurBot, registerCommands, START_NODE_ARGS, startBotProcess, untilIdle, type RunningBot } from './load/bot-processes.js';
import { startCpuHogs, type CpuHogs } from './load/cpu-hogs.js';
import { phaseFigures, runOpenLoop, type PhaseFigures } from './load/open-loop.js';
import { APP_ID, RATE_LIMITS, SCENARIOS, TOKEN, populateServer, seedDatabase, warmUp, type Scenario } from './load/scenarios.js';

const DEADLINE_MS = 3_000;
const DRAIN_MS = 5_000;
const WARM_UP_PER_SCENARIO = 200;
/** `before`: our bot from another bundle (`--before=FILE`), e.g. main's, measured in the same run as this one. */
type BotKind = 'ours' | 'bare' | 'before';

interface Cell extends PhaseFigures {
  bot: BotKind;
  scenario: string;
  /** The bot's CPU per interaction, ms. */
  cpuMs: number;
  /** Of that, its main thread's. */
  mainCpuMs: number;
  /** The bot's CPU over the phase, in % of one core. */
  cpuPct: number;
}

interface Settings {
  runs: number;
  seconds: number;
  rates: number[];
  loaded: boolean;
  /** Profile the bots with node --cpu-prof into this folder (ours in `ours/`, the bare bot in `bare/`). */
  profileDir: string | undefined;
  /** `--bots=ours` (or `bare`) runs only that one, e.g. while profiling. */
  bots: BotKind[];
  /** `--scenarios=projects,autocomplete` measures only those (all are still warmed up). */
  scenarios: Scenario[];
  /** `--bare-work=US`: the bare bot does that many µs of made-up work before each answer (bench/bare-bot.ts). */
  bareWorkUs: string | undefined;
  /** `--bare-node-args=FLAGS`: node flags for the bare bot too (e.g. ours, from `npm start`: START_NODE_ARGS). */
  bareNodeArgs: string[];
  /** `--bare-replies=FILE`: the bare bot answers with these payloads (bench/own-work.ts writes them), ours' own. */
  bareReplies: string | undefined;
  /** `--keep`: leave the bots' logs and database in place. */
  keep: boolean;
  /** `--warm-up=N`: each bot first answers N of each interaction (WARM_UP_PER_SCENARIO by default). */
  warmUp: number;
  /** `--before=FILE`: also run our bot from this bundle (a copy of an earlier dist/main.js), for before/after figures. */
  before: string | undefined;
  /**
   * `--nice=-10`: this process, the bots and the CPU hogs (which keep their offsets) run at this priority, ahead of
   * whatever else shares the machine, standing in for a machine of their own. 0 leaves the priority alone.
   */
  nice: number;
}

function settingsFrom(flags: readonly string[]): Settings {
  const number = (name: string, fallback: number) => {
    const value = Number(flagValue(flags, name) ?? fallback);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
    return value;
  };
  return {
    runs: number('runs', 3),
    seconds: number('seconds', 10),
    rates: (flagValue(flags, 'rates') ?? '500,1000').split(',').map(Number),
    loaded: flags.includes('--loaded'),
    profileDir: flagValue(flags, 'profile-dir'),
    keep: flags.includes('--keep'),
    warmUp: number('warm-up', WARM_UP_PER_SCENARIO),
    before: flagValue(flags, 'before'),
    bareReplies: flagValue(flags, 'bare-replies'),
    bareWorkUs: flagValue(flags, 'bare-work'),
    bareNodeArgs: (flagValue(flags, 'bare-node-args') ?? '').split(' ').filter(Boolean),
    scenarios: scenariosFrom(flagValue(flags, 'scenarios')),
    nice: Number(flagValue(flags, 'nice') ?? 0),
    bots: [
      ...(flagValue(flags, 'bots') ?? 'bare,ours').split(',').filter((bot): bot is BotKind => bot === 'ours' || bot === 'bare'),
      ...(flagValue(flags, 'before') ? (['before'] as const) : []),
    ],
  };
}

function profileArgs(kind: BotKind, settings: Settings): string[] {
  return settings.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(settings.profileDir, kind)}`] : [];
}

function scenariosFrom(list: string | undefined): Scenario[] {
  if (list === undefined) return SCENARIOS;
  const ids = list.split(',');
  const unknown = ids.filter((id) => !SCENARIOS.some((scenario) => scenario.id === id));
  if (unknown.length > 0) throw new Error(`--scenarios: unknown ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`);
  return SCENARIOS.filter((scenario) => ids.includes(scenario.id));
}

async function startBot(kind: BotKind, server: FakeDiscordServer, dir: string, bareBotScript: string, settings: Settings): Promise<RunningBot> {
  const discord = { DISCORD_TOKEN: TOKEN, DISCORD_APPLICATION_ID: APP_ID, DISCORD_API_URL: server.apiUrl };
  const ready = server.waitForReady(60_000);
  const bot =
    kind === 'bare'
      ? startBotProcess(
          'bare discord.js bot',
          bareBotScript,
          { ...discord, ...(settings.bareReplies ? { BARE_REPLIES: resolve(settings.bareReplies) } : {}), ...(settings.bareWorkUs ? { BARE_WORK_US: settings.bareWorkUs } : {}) },
          join(dir, 'bare-bot.log'),
          [...settings.bareNodeArgs, ...profileArgs('bare', settings)],
        )
      : startBotProcess(
          kind === 'before' ? 'Cloud ChatOps (before)' : 'Cloud ChatOps',
          kind === 'before' && settings.before ? resolve(settings.before) : 'dist/main.js',
          {
            ...discord,
            ...RATE_LIMITS,
            DATABASE_PATH: join(dir, 'chatops.db'),
            DEPLOYMENTS_DIR: join(dir, 'deployments'),
          },
          join(dir, kind === 'before' ? 'chatops-before.log' : 'chatops.log'),
          [...START_NODE_ARGS, ...profileArgs(kind, settings)],
        );
  await ready;
  return bot;
}

async function measure(bot: RunningBot, kind: BotKind, server: FakeDiscordServer, scenario: Scenario, rate: number, seconds: number): Promise<Cell> {
  await untilIdle(() => bot.cpuMs());
  server.forgetHistory();
  const cpuBefore = bot.cpuMs();
  const mainBefore = bot.mainThreadCpuMs();
  const result = await runOpenLoop({
    ratePerSecond: rate,
    durationMs: seconds * 1000,
    send: (i) => scenario.send(server, i),
    deadlineMs: DEADLINE_MS,
    drainMs: DRAIN_MS,
  });
  // What follows the acknowledgement (the deferred deploy's edit) belongs to the interaction too.
  const tailStarted = Date.now();
  await untilIdle(() => bot.cpuMs());
  const cpuMs = bot.cpuMs() - cpuBefore;
  const mainCpuMs = bot.mainThreadCpuMs() - mainBefore;
  const wallMs = result.wallMs + (Date.now() - tailStarted);
  return {
    ...phaseFigures(rate, result),
    bot: kind,
    scenario: scenario.id,
    cpuMs: cpuMs / result.sent,
    mainCpuMs: mainCpuMs / result.sent,
    cpuPct: (100 * cpuMs) / wallMs,
  };
}

async function oneRun(run: number, settings: Settings, log: (line: string) => void): Promise<{ cells: Cell[]; loadAverage: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-load-'));
  const server = await FakeDiscordServer.start({ applicationId: APP_ID, botToken: TOKEN });
  const loadAverage = os.loadavg()[0] ?? 0;
  const cells: Cell[] = [];
  try {
    await populateServer(server);
    seedDatabase(join(dir, 'chatops.db'));
    await registerCommands({ DISCORD_TOKEN: TOKEN, DISCORD_APPLICATION_ID: APP_ID, DISCORD_API_URL: server.apiUrl });
    const bareBotScript = await buildBareBot(dir);
    // Alternating which bot goes first cancels a drift of the machine's load over a run.
    const order = (run % 2 === 0 ? (['bare', 'before', 'ours'] as const) : (['ours', 'before', 'bare'] as const)).filter((bot) => settings.bots.includes(bot));
    for (const kind of order) {
      const bot = await startBot(kind, server, dir, bareBotScript, settings);
      try {
        await warmUp(server, settings.warmUp);
        for (const rate of settings.rates) {
          for (const scenario of settings.scenarios) {
            const cell = await measure(bot, kind, server, scenario, rate, settings.seconds);
            cells.push(cell);
            log(
              `  run ${run + 1} ${kind.padEnd(6)} ${String(rate).padStart(4)}/s ${scenario.id.padEnd(14)} p50 ${cell.p50.toFixed(1)} p99 ${cell.p99.toFixed(1)} ` +
                `max ${cell.max.toFixed(0)} ms, missed ${cell.missed}/${cell.sent}, CPU ${cell.cpuMs.toFixed(3)} ms/interaction (main thread ${cell.mainCpuMs.toFixed(3)}; ${cell.cpuPct.toFixed(0)}% of a core); ` +
                `bench ${cell.benchCpuPct.toFixed(0)}%, lag ${cell.senderLagMaxMs.toFixed(0)} ms`,
            );
          }
        }
      } finally {
        await bot.stop();
      }
    }
  } finally {
    await server.close();
    if (settings.keep) log(`  bots' logs and database kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  return { cells, loadAverage };
}

const median = (values: number[]): number => {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** The median of each figure over the runs, per bot, scenario and rate. */
function medians(cells: Cell[]): Cell[] {
  const groups = new Map<string, Cell[]>();
  for (const cell of cells) {
    const key = `${cell.bot}|${cell.scenario}|${cell.rate}`;
    groups.set(key, [...(groups.get(key) ?? []), cell]);
  }
  return [...groups.values()].map((group) => {
    const first = group[0] as Cell;
    const m = (pick: (cell: Cell) => number) => median(group.map(pick));
    return {
      ...first,
      p50: m((c) => c.p50),
      p99: m((c) => c.p99),
      max: m((c) => c.max),
      missed: m((c) => c.missed),
      cpuMs: m((c) => c.cpuMs),
      mainCpuMs: m((c) => c.mainCpuMs),
      cpuPct: m((c) => c.cpuPct),
      benchCpuPct: m((c) => c.benchCpuPct),
      senderLagMaxMs: Math.max(...group.map((c) => c.senderLagMaxMs)),
      benchLoopDelayMaxMs: Math.max(...group.map((c) => c.benchLoopDelayMaxMs)),
    };
  });
}

const ms = (value: number) => (Number.isNaN(value) ? '–' : value >= 100 ? value.toFixed(0) : value.toFixed(1));
const ratio = (a: number, b: number) => (b > 0 && !Number.isNaN(a) ? `${(a / b).toFixed(2)}×` : '–');

function table(summary: Cell[], rate: number, runs: number): string[] {
  const find = (bot: BotKind, scenario: string) => summary.find((c) => c.bot === bot && c.scenario === scenario && c.rate === rate);
  const rows = [
    `**${rate} interactions/s for the phase** (medians of ${runs} run${runs > 1 ? 's' : ''}; acknowledgement delays in ms, of the interactions acknowledged within ${(DEADLINE_MS + DRAIN_MS) / 1000} s: when most are missed, read the missed column; CPU in ms per interaction)`,
    '',
    '| Interaction | Ours p50 / p99 / max | Bare p50 / p99 / max | p99 ours ÷ bare | Missed ours / bare | CPU ours / bare | CPU ours ÷ bare |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const scenario of SCENARIOS) {
    const ours = find('ours', scenario.id);
    const bare = find('bare', scenario.id);
    if (!ours || !bare) continue;
    rows.push(
      `| ${scenario.label} | ${ms(ours.p50)} / ${ms(ours.p99)} / ${ms(ours.max)} | ${ms(bare.p50)} / ${ms(bare.p99)} / ${ms(bare.max)} | ` +
        `${ratio(ours.p99, bare.p99)} | ${ours.missed} / ${bare.missed} of ${ours.sent} | ${ours.cpuMs.toFixed(3)} / ${bare.cpuMs.toFixed(3)} | ${ratio(ours.cpuMs, bare.cpuMs)} |`,
    );
  }
  return rows;
}

/** With `--before`: our bot before and after, in the same runs. */
function beforeTable(summary: Cell[], rate: number): string[] {
  const find = (bot: BotKind, scenario: string) => summary.find((c) => c.bot === bot && c.scenario === scenario && c.rate === rate);
  const rows = [
    `**${rate}/s, our bot before (\`--before\` bundle) and after (dist/main.js)**`,
    '',
    '| Interaction | p99 before / after | CPU before / after / bare | CPU ÷ bare, before → after |',
    '| --- | --- | --- | --- |',
  ];
  for (const scenario of SCENARIOS) {
    const [before, ours, bare] = [find('before', scenario.id), find('ours', scenario.id), find('bare', scenario.id)];
    if (!before || !ours || !bare) continue;
    rows.push(
      `| ${scenario.label} | ${ms(before.p99)} / ${ms(ours.p99)} | ${before.cpuMs.toFixed(3)} / ${ours.cpuMs.toFixed(3)} / ${bare.cpuMs.toFixed(3)} | ` +
        `${ratio(before.cpuMs, bare.cpuMs)} → ${ratio(ours.cpuMs, bare.cpuMs)} |`,
    );
  }
  return rows;
}

async function run(flags: readonly string[]): Promise<BenchmarkResult> {
  const settings = settingsFrom(flags);
  const machine = describeMachine(machineInfo());
  const log = (line: string) => process.stdout.write(`${line}\n`);
  buildOurBot();
  if (settings.nice !== 0) raisePriority(settings.nice);
  let hogs: CpuHogs | undefined;
  const cells: Cell[] = [];
  const loads: number[] = [];
  try {
    if (settings.loaded) {
      hogs = startCpuHogs(60 * 60_000);
      log(`  loaded: ${hogs.description}`);
    }
    for (let r = 0; r < settings.runs; r++) {
      const result = await oneRun(r, settings, log);
      cells.push(...result.cells);
      loads.push(result.loadAverage);
    }
  } finally {
    await hogs?.stop();
  }
  const summary = medians(cells);
  const bench = summary.map((c) => c.benchCpuPct);
  const markdown = [
    `Machine: ${machine}. Load average (1 min) at the start of each run: ${loads.map((l) => l.toFixed(2)).join(', ')}.` +
      (settings.loaded ? ` Loaded: ${hogs?.description ?? ''}.` : ' No load added by the benchmark; other work on the machine may have run.') +
      (settings.nice !== 0 ? ` The benchmark and both bots ran at nice ${settings.nice}, ahead of the machine's other work.` : '') +
      (settings.bareReplies ? ' The bare bot answered with our bot\'s own payloads (`--bare-replies`, written by `bench/own-work.ts`), so both sent the same bytes.' : '') +
      (settings.bareNodeArgs.length > 0 ? ` The bare bot ran with \`node ${settings.bareNodeArgs.join(' ')}\` (\`--bare-node-args\`).` : '') +
      (settings.bareWorkUs ? ` The bare bot did ${settings.bareWorkUs} µs of made-up work before each answer (\`--bare-work\`).` : ''),
    '',
    ...settings.rates.flatMap((rate) => [...table(summary, rate, settings.runs), '', ...(settings.before ? [...beforeTable(summary, rate), ''] : [])]),
    `The benchmark process (open-loop sender and the local Discord server together) used ${Math.min(...bench).toFixed(0)}–${Math.max(...bench).toFixed(0)}% of one core; ` +
      `the sender fell at most ${Math.max(...summary.map((c) => c.senderLagMaxMs)).toFixed(0)} ms behind its schedule, and its event loop was held at most ` +
      `${Math.max(...summary.map((c) => c.benchLoopDelayMaxMs)).toFixed(0)} ms.`,
    '',
    `How: each bot runs as a child process on plain node (ours: \`node ${START_NODE_ARGS.join(' ')} dist/main.js\`, as \`npm start\` runs it, with \`LOG_LEVEL=info\` to a file;`,
    'the bare bot: `bench/bare-bot.ts` bundled the same way), against one local Discord-compatible server in the benchmark process,',
    'one bot at a time. Ten guilds of ten members, three projects each; rate limits at their configurable maximum. Each bot is',
    `warmed up with ${settings.warmUp} of each interaction first. The sender dispatches on schedule whatever the answers (open loop).`,
    'Latency is from the dispatch of INTERACTION_CREATE to the arrival of the interaction callback; later than 3 s, or never, is missed.',
    'CPU is the bot\'s own (utime + stime from /proc/<pid>/stat) over the phase and until it is idle again, divided by the interactions sent.',
    'The bare bot answers every command with one ephemeral message and every autocomplete with no choices: one REST call each, as',
    'ours makes for all of these (a `/cloud-deploy` the policy allows is deferred, then edited: two; one it refuses is answered at once).',
  ].join('\n');
  const section = settings.loaded
    ? { id: 'interactions-loaded', title: 'Interactions under load, machine loaded by engine-like work: ours against a bare discord.js bot' }
    : undefined;
  const lines = settings.rates.flatMap((rate) =>
    [...table(summary, rate, settings.runs), ...(settings.before ? ['', ...beforeTable(summary, rate)] : [])].map((row) => `  ${row}`),
  );
  return { lines: [...lines, `  Machine: ${machine}`], markdown, ...(section ? { section } : {}) };
}

export const interactionsBenchmark: Benchmark = {
  id: 'interactions',
  title: 'Interactions under load: ours against a bare discord.js bot',
  run,
};
