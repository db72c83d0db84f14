/**
 * The world the load benchmarks run in, and the interactions they send. By default ten guilds of ten members (half
 * of them admins), each guild with three projects and a policy that allows buckets only; load is spread over guilds
 * and members as real traffic is, so no single member's or guild's rate limit decides the outcome (the limits are
 * raised besides: RATE_LIMITS). The same interactions go to our bot and to the bare bot. `benchWorld(guildIds)`
 * builds the same world on other guilds (the shards benchmark's, spread over every shard).
 */
import { openDatabase } from '../../src/db/index.js';
import { Permission, type FakeDiscordServer, type InteractionHandle } from '../../test/discord-server/index.js';

export const APP_ID = '900000000000000001';
export const TOKEN = 'bench-bot-token';
const MEMBERS_PER_GUILD = 10;
const PROJECTS_PER_GUILD = 3;

/** The highest the configuration allows (src/config): limits that would refuse the load would measure the refusal. */
export const RATE_LIMITS = { RATE_LIMIT_MEMBER_PER_MINUTE: '10000', RATE_LIMIT_GUILD_PER_MINUTE: '100000' };

const MEMBER_PERMISSIONS = Permission.ViewChannel | Permission.SendMessages | Permission.UseApplicationCommands;

interface Seat {
  guildId: string;
  channelId: string;
  userId: string;
}

/** The default world's guilds (bench/own-work.ts uses the same ids). */
const DEFAULT_GUILD_IDS = Array.from({ length: 10 }, (_, g) => String(310000000000000000n + BigInt(g + 1)));
const channelId = (g: number) => String(320000000000000000n + BigInt(g + 1));
const userId = (g: number, m: number) => String(410000000000000000n + BigInt(g * 100 + m + 1));
const isAdmin = (m: number) => m % 2 === 0;
const projectName = (p: number) => `project-${p + 1}`;

export interface Scenario {
  id: string;
  /** As a member would type it. */
  label: string;
  send(server: FakeDiscordServer, i: number): Promise<InteractionHandle>;
}

export interface BenchWorld {
  readonly guildIds: readonly string[];
  /** The five interactions, each spread over every guild and member of this world. */
  readonly scenarios: Scenario[];
  /** Adds the guilds, their channel and their members to the local Discord server. */
  populateServer(server: FakeDiscordServer): Promise<void>;
  /** Creates our bot's database (migrations applied) with every guild's projects, resources and policy. */
  seedDatabase(path: string): void;
  /** Every interaction the scenarios send, once, so a bot is warm (JIT-compiled, caches filled) before timing. */
  warmUp(server: FakeDiscordServer, perScenario: number): Promise<void>;
}

function rotating(list: Seat[]): (i: number) => Seat {
  return (i) => list[i % list.length] as Seat;
}

/** The benchmark world on these guilds: ten members each (half admins), three projects, a buckets-only policy. */
export function benchWorld(guildIds: readonly string[]): BenchWorld {
  const guildId = (g: number) => guildIds[g] as string;
  const seats = (admins: boolean | 'any'): Seat[] =>
    guildIds
      .map((_, g) =>
        Array.from({ length: MEMBERS_PER_GUILD }, (_, m) => m)
          .filter((m) => admins === 'any' || isAdmin(m) === admins)
          .map((m) => ({ guildId: guildId(g), channelId: channelId(g), userId: userId(g, m) })),
      )
      .flat();
  const anyone = rotating(seats('any'));
  const members = rotating(seats(false));
  const admins = rotating(seats(true));

  const scenarios: Scenario[] = [
    {
      id: 'projects',
      label: '/cloud-projects',
      send: (server, i) => server.sendChatInput({ ...anyone(i), name: 'cloud-projects' }),
    },
    {
      id: 'policy-view',
      label: '/cloud-guild-policy action:view',
      send: (server, i) => server.sendChatInput({ ...anyone(i), name: 'cloud-guild-policy', options: [{ name: 'action', value: 'view' }] }),
    },
    {
      id: 'admin-refused',
      label: '/cloud-audit by a member who is not an admin (refused)',
      // Discord hides the command from such members unless an admin made it visible to them.
      send: (server, i) => server.sendChatInput({ ...members(i), name: 'cloud-audit', ignoreDefaultMemberPermissions: true }),
    },
    {
      id: 'autocomplete',
      label: 'autocomplete on /cloud-deploy project: "proj"',
      send: (server, i) =>
        server.sendAutocomplete({ ...anyone(i), name: 'cloud-deploy', options: [{ name: 'project', value: 'proj', focused: true }] }),
    },
    {
      id: 'deploy-refused',
      label: '/cloud-deploy resource_type:vm, refused by the policy (buckets only)',
      send: (server, i) =>
        server.sendChatInput({
          ...admins(i),
          name: 'cloud-deploy',
          options: [
            { name: 'project', value: projectName(i % PROJECTS_PER_GUILD) },
            { name: 'resource_type', value: 'vm' },
            { name: 'instance_type', value: 'e2-micro' },
            { name: 'disk_size', value: 20 },
          ],
        }),
    },
  ];

  return {
    guildIds,
    scenarios,
    async populateServer(server) {
      for (const [g, id] of guildIds.entries()) {
        await server.addGuild({ id, name: `Guild ${g + 1}`, ownerId: userId(g, 0), channels: [{ id: channelId(g), name: 'ops' }] });
        for (let m = 0; m < MEMBERS_PER_GUILD; m++) {
          const permissions = isAdmin(m) ? MEMBER_PERMISSIONS | Permission.ManageGuild : MEMBER_PERMISSIONS;
          await server.addMember(id, { id: userId(g, m), username: `member-${g}-${m}`, permissions });
        }
      }
    },
    seedDatabase(path) {
      const handle = openDatabase(path);
      try {
        const now = Date.now();
        const project = handle.sqlite.prepare(
          "INSERT INTO cloud_projects (guild_id, name, slug, provider, region, backend_settings, created_by, created_at, updated_at) VALUES (?, ?, ?, 'gcp', 'us-central1', '{\"kind\":\"local\"}', ?, ?, ?)",
        );
        const resource = handle.sqlite.prepare(
          "INSERT INTO cloud_resources (project_id, guild_id, name, resource_type, disk_size_gb, estimated_monthly_cost, status, created_by, created_at, updated_at) VALUES (?, ?, ?, 'bucket', 10, 0.2, 'active', ?, ?, ?)",
        );
        const policy = handle.sqlite.prepare(
          'INSERT INTO guild_policies (guild_id, allowed_resource_types, created_at, updated_at) VALUES (?, ?, ?, ?)',
        );
        handle.sqlite.transaction(() => {
          for (let g = 0; g < guildIds.length; g++) {
            for (let p = 0; p < PROJECTS_PER_GUILD; p++) {
              const id = project.run(guildId(g), projectName(p), projectName(p), userId(g, 0), now, now).lastInsertRowid;
              resource.run(id, guildId(g), `bucket-${p + 1}`, userId(g, 0), now, now);
            }
            policy.run(guildId(g), JSON.stringify(['bucket']), now, now);
          }
        })();
      } finally {
        handle.close();
      }
    },
    async warmUp(server, perScenario) {
      for (const scenario of scenarios) {
        const handles = await Promise.all(Array.from({ length: perScenario }, (_, i) => scenario.send(server, i)));
        await Promise.all(handles.map((handle) => handle.waitForResponse(30_000)));
      }
    },
  };
}

const DEFAULT_WORLD = benchWorld(DEFAULT_GUILD_IDS);
export const SCENARIOS: Scenario[] = DEFAULT_WORLD.scenarios;
export const populateServer = (server: FakeDiscordServer): Promise<void> => DEFAULT_WORLD.populateServer(server);
export const seedDatabase = (path: string): void => DEFAULT_WORLD.seedDatabase(path);
export const warmUp = (server: FakeDiscordServer, perScenario: number): Promise<void> => DEFAULT_WORLD.warmUp(server, perScenario);
