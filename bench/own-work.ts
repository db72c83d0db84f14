/**
 * `node --import tsx bench/own-work.ts [n] [replies.json]`: what this bot's own work costs per interaction, without
 * discord.js or the network: the benchmark's five interactions (bench/load/scenarios.ts, same seeded database and
 * rate limits) through the real dispatcher and commands, each reply rendered to Discord's JSON as the front end
 * does, then dropped. Prints µs of CPU per interaction. With `replies.json`, writes each command's rendered reply
 * there (and the autocomplete's choices): `--bare-replies=FILE` has the bare bot of the load benchmark send the same
 * payloads, so the two bots differ only in what they do, not in what they send.
 */
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { allCommands, allComponentHandlers } from '../commands/index.js';
import { buildCore } from '../src/app/bootstrap.js';
import { parseConfig } from '../src/config/index.js';
import { CommandDispatcher } from '../src/interaction/dispatcher.js';
import { createLogger } from '../src/logging/logger.js';
import { systemClock } from '../src/shared/clock.js';
import { renderMessage } from '../src/discord/render.js';
import { seedDatabase, RATE_LIMITS } from './load/scenarios.js';
import type { Conversation, Message } from '../src/interaction/conversation.js';

const dir = mkdtempSync(join(tmpdir(), 'ours-'));
seedDatabase(join(dir, 'db.sqlite'));
const config = parseConfig({ DATABASE_PATH: join(dir, 'db.sqlite'), DEPLOYMENTS_DIR: join(dir, 'dep'), ...RATE_LIMITS });
let bytes = 0;
const sink = new Writable({ write(c, _e, d) { bytes += c.length; d(); } });
const notifier = { sendDirect: async () => {}, sendToChannel: async () => {}, channelInGuild: async () => true, guildName: async () => 'g' } as never;
const core = await buildCore({ config, clock: systemClock, logger: createLogger('info', sink), notifier });
const dispatcher = new CommandDispatcher(allCommands, core.app, { components: allComponentHandlers });
const guild = (i: number) => String(310000000000000000n + BigInt((i % 10) + 1));
const user = (i: number, admin: boolean) => String(410000000000000000n + BigInt((i % 10) * 100 + (admin ? 0 : 1) + 1));
class Conv implements Partial<Conversation> {
  state: 'none' | 'deferred' | 'answered' = 'none';
  constructor(readonly guildId: string, readonly actor: never, readonly commandName: string) {}
  channelId = '320000000000000001';
  responseState() { return this.state; }
  async reply(m: Message) { replies[this.commandName] = { ...renderMessage(m), ephemeral: m.ephemeral ?? false }; this.state = 'answered'; }
  async defer() { this.state = 'deferred'; }
  async edit(m: Message) { replies[this.commandName] = { ...renderMessage(m), ephemeral: m.ephemeral ?? false }; this.state = 'answered'; }
  async followUp(m: Message) { renderMessage(m); }
  canStillRespond() { return true; }
}
const actor = (i: number, admin: boolean) => ({ id: user(i, admin), displayName: 'm', isBot: false, isGuildAdmin: admin }) as never;
const scenarios: Record<string, (i: number) => Promise<unknown>> = {
  projects: (i) => dispatcher.handle(new Conv(guild(i), actor(i, true), 'cloud-projects') as never, {}),
  'policy-view': (i) => dispatcher.handle(new Conv(guild(i), actor(i, true), 'cloud-guild-policy') as never, { action: 'view' }),
  'admin-refused': (i) => dispatcher.handle(new Conv(guild(i), actor(i, false), 'cloud-audit') as never, {}),
  autocomplete: async (i) => (replies['autocomplete:cloud-deploy'] = await dispatcher.complete({ guildId: guild(i), actor: actor(i, true), commandName: 'cloud-deploy', focused: { name: 'project', value: 'proj' }, options: { project: 'proj' } })),
  'deploy-refused': (i) => dispatcher.handle(new Conv(guild(i), actor(i, true), 'cloud-deploy') as never, { project: `project-${(i % 3) + 1}`, resource_type: 'vm', instance_type: 'e2-micro', disk_size: 20 }),
};
const n = Number(process.argv[2] ?? 5000);
const repliesFile = process.argv[3];
const replies: Record<string, unknown> = {};
/** `OWN_WORK_SCENARIOS=deploy-refused,projects`: only those (to profile one with --cpu-prof). */
const only = process.env.OWN_WORK_SCENARIOS?.split(',');
for (const [name, run] of Object.entries(scenarios)) {
  if (only && !only.includes(name)) continue;
  for (let i = 0; i < 1000; i++) await run(i);
  const s = process.cpuUsage();
  for (let i = 0; i < n; i++) await run(i);
  const c = process.cpuUsage(s);
  console.log(`${name.padEnd(16)} ${((c.user + c.system) / n).toFixed(1)} µs CPU per interaction (sys ${(c.system / n).toFixed(1)})`);
}
await core.shutdown();
if (repliesFile) writeFileSync(repliesFile, JSON.stringify(replies, null, 2));
console.log(`(${bytes} bytes of log lines)`);
