/**
 * Flat growth: each command's cost in a guild with 1,000 projects, 10,000 resources, 200,000 runs and 200,000 audit
 * entries, against a guild with none and a guild with one page of each (what the commands show at most), all in
 * one real SQLite file. The commands run through their real handlers on the real core (buildCore), answering into
 * a conversation that throws the reply away; what is measured is the bot's work, not Discord's.
 * Then PolicyService.validate's rate against the same reads as raw prepared statements, in the same run.
 */
import type Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { allCommands } from '../commands/index.js';
import { buildCore } from '../src/app/bootstrap.js';
import type { AppContext } from '../src/app/context.js';
import { parseConfig } from '../src/config/index.js';
import type { Actor, Conversation, Message, RawOptions } from '../src/interaction/conversation.js';
import { createLogger } from '../src/logging/logger.js';
import type { Notifier } from '../src/notify/notifier.js';
import { ProjectNotFound } from '../src/projects/errors.js';
import { ADMIN, GUILDS, RARE_ACTION, RARE_MEMBER, SIZES, seedGuild, type GuildKind } from './growth-data.js';
import { describeMachine, fmtCount, machineInfo, type Benchmark, type BenchmarkResult } from './harness.js';

const NOW = Date.UTC(2026, 0, 1, 12);
const ROUNDS = 400;
const WARM_UP = 50;
const THROUGHPUT_MS = 4_000;
const admin: Actor = { id: ADMIN, displayName: 'admin', isBot: false, isGuildAdmin: true };
const smallVm = { provider: 'gcp', resourceType: 'vm', instanceType: 'e2-micro', diskSizeGb: 10 } as const;

/** Everything a handler says goes nowhere; a form or buttons would end the command (none of these asks). */
class DiscardingConversation implements Conversation {
  readonly channelId = '400000000000000001';
  #state: 'none' | 'deferred' | 'answered' = 'none';
  constructor(
    readonly guildId: string,
    readonly commandName: string,
    readonly actor: Actor = admin,
  ) {}
  responseState() {
    return this.#state;
  }
  async reply(_message: Message) {
    this.#state = 'answered';
  }
  async defer() {
    this.#state = 'deferred';
  }
  async edit(_message: Message) {
    this.#state = 'answered';
  }
  async followUp(_message: Message) {}
  canStillRespond() {
    return true;
  }
  async postToChannel(_message: Message) {}
  async askModal() {
    return null;
  }
  async askFurtherModal() {
    return null;
  }
  async offerButtons() {
    return null;
  }
}

const silentNotifier: Notifier = {
  sendDirect: async () => {},
  sendToChannel: async (channelId) => ({ channelId, messageId: '0' }),
  editChannelMessage: async () => {},
  channelInGuild: async () => true,
  guildName: async () => 'Guild',
};

type Work = (app: AppContext, guildId: string, projectName: string) => unknown;

function command(name: string, raw: RawOptions = {}): Work {
  const handler = allCommands.find((c) => c.name === name);
  if (!handler) throw new Error(`no command ${name}`);
  return (app, guildId) => handler.run(new DiscardingConversation(guildId, name), raw, app);
}

const CASES: Array<{ label: string; work: Work }> = [
  { label: '`/cloud-projects`', work: command('cloud-projects') },
  { label: '`/cloud-guild-policy action:view`', work: command('cloud-guild-policy', { action: 'view' }) },
  { label: 'Policy check (`PolicyService.validate`, a VM)', work: (app, guildId) => app.policies.validate(guildId, smallVm) },
  { label: '`/cloud-runs list`', work: command('cloud-runs', { subcommand: 'list' }) },
  { label: `\`/cloud-audit action:${RARE_ACTION}\` (20 old entries)`, work: command('cloud-audit', { action: RARE_ACTION }) },
  { label: '`/cloud-audit user:` (a member with 20 old entries)', work: command('cloud-audit', { user: { id: RARE_MEMBER, displayName: 'rare', isBot: false } }) },
  { label: '`/cloud-audit` (newest 20)', work: command('cloud-audit') },
  {
    label: 'Project lookup by name (`ProjectRepository.get`)',
    work: async (app, guildId, name) => {
      try {
        // Awaited: the repository is asynchronous (issue 16), so "not found" arrives as a rejection, not a throw.
        return await app.projects.get(guildId, name);
      } catch (error) {
        if (!(error instanceof ProjectNotFound)) throw error;
        return undefined; // the empty guild has no such project: the same lookup, answered "not found"
      }
    },
  },
  { label: '`/cloud-credentials list`', work: command('cloud-credentials', { subcommand: 'list' }) },
  { label: '`/cloud-jit-list` (every member)', work: command('cloud-jit-list') },
  {
    label: 'Autocomplete `project` (nothing typed yet)',
    work: (app, guildId) =>
      allCommands.find((c) => c.name === 'cloud-deploy')!.complete!({ guildId, actor: admin, commandName: 'cloud-deploy', focused: { name: 'project', value: '' }, options: {} }, app),
  },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Rounds alternate between the guilds, so a burst of load from elsewhere on the machine hits all three alike. */
async function latencies(app: AppContext, work: Work, projectNames: Record<GuildKind, string>): Promise<Record<GuildKind, number>> {
  const kinds = Object.keys(GUILDS) as GuildKind[];
  const samples: Record<GuildKind, number[]> = { empty: [], page: [], big: [] };
  for (let round = 0; round < WARM_UP + ROUNDS; round++) {
    for (const kind of kinds) {
      const started = performance.now();
      await work(app, GUILDS[kind], projectNames[kind]);
      if (round >= WARM_UP) samples[kind].push(performance.now() - started);
    }
  }
  return { empty: median(samples.empty), page: median(samples.page), big: median(samples.big) };
}

/**
 * Calls per second of each workload, measured in turns of about 50 ms each, so that load from elsewhere on the
 * machine falls on all of them alike rather than on whichever ran last.
 */
async function rates(workloads: Record<string, () => unknown>): Promise<Record<string, number>> {
  const entries = Object.entries(workloads);
  const calls = new Map(entries.map(([name]) => [name, 0]));
  const spent = new Map(entries.map(([name]) => [name, 0]));
  // Each call awaited, as the bot awaits it (the service is asynchronous; on SQLite its promise is already settled).
  for (const [, work] of entries) for (let i = 0; i < 2_000; i++) await work();
  for (let turn = 0; turn < THROUGHPUT_MS / 50; turn++) {
    for (const [name, work] of entries) {
      const started = performance.now();
      let n = 0;
      while (performance.now() - started < 50 / entries.length) {
        for (let i = 0; i < 20; i++) await work();
        n += 20;
      }
      calls.set(name, calls.get(name)! + n);
      spent.set(name, spent.get(name)! + performance.now() - started);
    }
  }
  return Object.fromEntries(entries.map(([name]) => [name, calls.get(name)! / (spent.get(name)! / 1000)]));
}

const us = (ms: number) => `${(ms * 1000).toFixed(ms < 0.1 ? 1 : 0)} µs`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

async function run(): Promise<BenchmarkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-growth-'));
  const config = parseConfig({ DATABASE_PATH: join(dir, 'bench.db'), DEPLOYMENTS_DIR: join(dir, 'deployments') });
  const core = await buildCore({ config, clock: { now: () => NOW }, logger: createLogger('silent'), notifier: silentNotifier });
  try {
    const before = machineInfo();
    const started = performance.now();
    // It seeds and reads SQLite's file directly: a benchmark of the embedded default (DATABASE_URL unset).
    const sqlite = core.database.sqlite?.sqlite;
    if (!sqlite) throw new Error('npm run bench -- growth runs on SQLite: unset DATABASE_URL');
    const projectNames: Record<GuildKind, string> = {
      empty: 'project-0007',
      page: seedGuild(sqlite, GUILDS.page, SIZES.page, NOW),
      big: seedGuild(sqlite, GUILDS.big, SIZES.big, NOW),
    };
    const seedMs = performance.now() - started;

    const rows: string[][] = [];
    for (const { label, work } of CASES) {
      const t = await latencies(core.app, work, projectNames);
      rows.push([label, us(t.empty), us(t.page), us(t.big), ratio(t.big, t.page), ratio(t.big, t.empty)]);
    }

    // The same reads validate makes, as raw prepared statements: the floor for what the service adds.
    const policyRow = sqlite.prepare('SELECT * FROM guild_policies WHERE guild_id = ?');
    const tierRow = sqlite.prepare('SELECT * FROM guild_tiers WHERE guild_id = ?');
    const totals = sqlite.prepare('SELECT status, resource_type, resources, monthly_usd FROM guild_resource_totals WHERE guild_id = ?');
    const measured = await rates({
      pageService: () => core.app.policies.validate(GUILDS.page, smallVm),
      pageRaw: () => [policyRow.get(GUILDS.page), tierRow.get(GUILDS.page), totals.all(GUILDS.page)],
      bigService: () => core.app.policies.validate(GUILDS.big, smallVm),
      bigRaw: () => [policyRow.get(GUILDS.big), tierRow.get(GUILDS.big), totals.all(GUILDS.big)],
    });
    const throughput = [
      { kind: 'page', service: measured['pageService']!, raw: measured['pageRaw']! },
      { kind: 'big', service: measured['bigService']!, raw: measured['bigRaw']! },
    ];
    const writes = writeCosts(core.app, sqlite);
    const after = machineInfo();

    const machine = `${describeMachine(before)}; load average ${after.loadAverage} at the end`;
    const big = SIZES.big;
    const header = `| Command | Empty guild | One page of data | ${fmtCount(big.projects)} projects, ${fmtCount(big.projects * big.resourcesPerProject)} resources, ${fmtCount(big.runs)} runs, ${fmtCount(big.auditEntries)} audit entries | Large ÷ one page | Large ÷ empty |`;
    const table = [header, '| --- | --- | --- | --- | --- | --- |', ...rows.map((r) => `| ${r.join(' | ')} |`)];
    const throughputLines = throughput.map(
      ({ kind, service, raw }) =>
        `| ${kind === 'page' ? 'One page of data (250 resources)' : 'Large guild (10,000 resources)'} | ${fmtCount(service)}/s | ${fmtCount(raw)}/s | ${(service / raw).toFixed(2)} |`,
    );
    const lines = [
      ...rows.map((r) => `  ${r[0]}: empty ${r[1]}, page ${r[2]}, large ${r[3]} (large ÷ page ${r[4]}, ÷ empty ${r[5]})`),
      ...throughput.map(({ kind, service, raw }) => `  validate in the ${kind} guild: ${fmtCount(service)}/s; raw statements ${fmtCount(raw)}/s`),
      `  audit entry written: ${us(writes.audit.with)} (${us(writes.audit.without)} without the two filter indexes)`,
      `  resource status change: ${us(writes.status.with)} (${us(writes.status.without)} without the totals triggers and status index)`,
      `  Seeding: ${Math.round(seedMs)} ms`,
      `  Machine: ${machine}`,
    ];
    const markdown = [
      `Machine: ${machine}.`,
      '',
      `Median of ${ROUNDS} runs each (after ${WARM_UP} to warm up), the three guilds taking turns in every round, in one SQLite file.`,
      `"One page of data" is what the commands show at most (${SIZES.page.projects} projects of ${SIZES.page.resourcesPerProject} resources, ${SIZES.page.runs} runs, ${SIZES.page.auditEntries} audit entries, ${SIZES.page.credentials} credentials, ${SIZES.page.activeGrants} grants in force);`,
      `the large guild has as many credentials and grants in force, plus ${fmtCount(big.deletedCredentials)} deleted credentials and ${fmtCount(big.endedGrants)} ended grants. Of its resources, 6 in 10 are active, 2 destroyed, 1 failed, 1 planned.`,
      '',
      ...table,
      '',
      '`PolicyService.validate` throughput, against the reads it makes (policy row, tier row, the guild\'s resource totals) as raw prepared statements, same run:',
      '',
      '| Guild | `validate` | Raw statements | Ratio |',
      '| --- | --- | --- | --- |',
      ...throughputLines,
      '',
      'What the new indexes and totals cost the writes, in the large guild (median of single-statement transactions; the last two columns after dropping them from this throwaway file):',
      '',
      '| Write | As shipped | Without | |',
      '| --- | --- | --- | --- |',
      `| An audit entry (\`AuditLog.record\`) | ${us(writes.audit.with)} | ${us(writes.audit.without)} | without \`audit_log_guild_action\`, \`audit_log_guild_member\` |`,
      `| A resource's status change | ${us(writes.status.with)} | ${us(writes.status.without)} | without the totals triggers and \`cloud_resources_status\` |`,
    ].join('\n');
    return { lines, markdown };
  } finally {
    await core.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes timed as shipped, then again once the indexes and triggers this benchmark is about are dropped. */
function writeCosts(app: AppContext, sqlite: Database.Database) {
  const resourceId = (sqlite.prepare("SELECT id FROM cloud_resources WHERE guild_id = ? AND status = 'active' LIMIT 1").get(GUILDS.big) as { id: number }).id;
  const toggle = sqlite.prepare('UPDATE cloud_resources SET status = ? WHERE id = ?');
  const time = (work: (i: number) => void) => {
    const samples: number[] = [];
    for (let i = 0; i < 2_000; i++) {
      const started = performance.now();
      work(i);
      if (i >= 200) samples.push(performance.now() - started);
    }
    return median(samples);
  };
  const audit = () => time((i) => app.audit.record({ guildId: GUILDS.big, userId: ADMIN, action: 'deploy.plan', target: `project-${i}`, outcome: 'success', details: { kind: 'vm' } }));
  const status = () => time((i) => toggle.run(i % 2 === 0 ? 'failed' : 'active', resourceId));
  const shipped = { audit: audit(), status: status() };
  sqlite.exec(`DROP INDEX audit_log_guild_action; DROP INDEX audit_log_guild_member; DROP INDEX cloud_resources_status;
    DROP TRIGGER cloud_resources_totals_insert; DROP TRIGGER cloud_resources_totals_update; DROP TRIGGER cloud_resources_totals_delete;`);
  return { audit: { with: shipped.audit, without: audit() }, status: { with: shipped.status, without: status() } };
}

export const growthBenchmark: Benchmark = {
  id: 'growth',
  title: 'Flat growth: command cost in a large guild against an empty one',
  run,
};
