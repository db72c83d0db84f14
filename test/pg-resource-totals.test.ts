/**
 * PostgreSQL's cloud_resources_totals triggers (drizzle/pg, PL/pgSQL) keep guild_resource_totals exactly as SQLite's
 * (drizzle/0007 and 0012) do: the same writes, replayed on a real SQLite file and a real PostgreSQL server, leave the
 * same rows, to the last bit of every float, rows back at zero included.
 */
import { and, eq } from 'drizzle-orm';
import { afterEach, expect, it } from 'vitest';
import type { Db } from '../src/db/index.js';
import { pgSchema } from '../src/db/pg-schema.js';
import { openPostgres, type PgDb, type PostgresHandle } from '../src/db/postgres.js';
import { RESOURCE_KINDS, RESOURCE_STATUSES, schema, type ResourceKind, type ResourceStatus } from '../src/db/schema.js';
import { describeWithPostgres } from './support/postgres-server.js';
import { makeTestDatabase } from './support/tmp.js';

const GUILDS = ['111111111111111111', '222222222222222222', '333333333333333333'] as const;
/** Sums of these are not exact in binary (0.1 + 0.2): any difference in how they are added would show. */
const COSTS = [0, 0.1, 0.2, 0.3, 19.99, 1e-9, 1234.5678, 7.77];
const T = 1_796_000_000_000;

interface ResourceFields {
  guild_id: string;
  status: ResourceStatus;
  resource_type: ResourceKind;
  estimated_monthly_cost: number;
  compute_instances: number;
  name: string;
}

/** The writes the bot makes to cloud_resources, on either dialect. */
interface ResourceWrites {
  insert(rows: Array<ResourceFields & { id: number }>): Promise<void>;
  update(id: number, set: Partial<ResourceFields>): Promise<void>;
  /** One statement over several rows. */
  updateWhere(guildId: string, status: ResourceStatus, set: Partial<ResourceFields>): Promise<void>;
  remove(id: number): Promise<void>;
  totals(): Promise<unknown[]>;
}

const common = (row: ResourceFields & { id: number }, projectId: number) => ({ ...row, project_id: projectId, created_by: 'u', created_at: T, updated_at: T });

function sqliteWrites(db: Db, projectId: number): ResourceWrites {
  const table = schema.cloudResources;
  return {
    insert: async (rows) => void db.insert(table).values(rows.map((row) => common(row, projectId))).run(),
    update: async (id, set) => void db.update(table).set(set).where(eq(table.id, id)).run(),
    updateWhere: async (guildId, status, set) => void db.update(table).set(set).where(and(eq(table.guild_id, guildId), eq(table.status, status))).run(),
    remove: async (id) => void db.delete(table).where(eq(table.id, id)).run(),
    totals: async () => db.select().from(schema.guildResourceTotals).orderBy(schema.guildResourceTotals.guild_id, schema.guildResourceTotals.status, schema.guildResourceTotals.resource_type).all(),
  };
}

function pgWrites(db: PgDb, projectId: number): ResourceWrites {
  const table = pgSchema.cloudResources;
  const totals = pgSchema.guildResourceTotals;
  return {
    insert: async (rows) => void (await db.insert(table).values(rows.map((row) => common(row, projectId)))),
    update: async (id, set) => void (await db.update(table).set(set).where(eq(table.id, id))),
    updateWhere: async (guildId, status, set) => void (await db.update(table).set(set).where(and(eq(table.guild_id, guildId), eq(table.status, status)))),
    remove: async (id) => void (await db.delete(table).where(eq(table.id, id))),
    totals: async () => db.select().from(totals).orderBy(totals.guild_id, totals.status, totals.resource_type),
  };
}

/** A small seeded generator (mulberry32): the same sequence of writes on every run and on both sides. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Write = (writes: ResourceWrites) => Promise<void>;

/** Single-row inserts, updates of every column the triggers follow (and one they do not), and deletes. */
function randomWrites(count: number, seed: number): Write[] {
  const random = seeded(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const fields = (): ResourceFields => ({
    guild_id: pick(GUILDS),
    status: pick(RESOURCE_STATUSES),
    resource_type: pick(RESOURCE_KINDS),
    estimated_monthly_cost: pick(COSTS),
    compute_instances: Math.floor(random() * 4),
    name: `r${Math.floor(random() * 1000)}`,
  });
  const live: number[] = [];
  let nextId = 1;
  const writes: Write[] = [];
  for (let i = 0; i < count; i += 1) {
    const roll = random();
    if (live.length === 0 || roll < 0.35) {
      const rows = Array.from({ length: 1 + Math.floor(random() * 2) }, () => ({ id: nextId++, ...fields() }));
      live.push(...rows.map((row) => row.id));
      writes.push((w) => w.insert(rows));
    } else if (roll < 0.85) {
      const id = pick(live);
      const all = fields();
      const keys = (Object.keys(all) as Array<keyof ResourceFields>).filter(() => random() < 0.4);
      const set = Object.fromEntries(keys.map((key) => [key, all[key]])) as Partial<ResourceFields>;
      if (keys.length > 0) writes.push((w) => w.update(id, set));
    } else {
      const id = live.splice(Math.floor(random() * live.length), 1)[0]!;
      writes.push((w) => w.remove(id));
    }
  }
  return writes;
}

describeWithPostgres('resource totals kept by PostgreSQL triggers', (server) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function bothDialects(): Promise<{ sqlite: ResourceWrites; postgres: ResourceWrites; pg: PostgresHandle; projectId: number }> {
    const sqlite = makeTestDatabase();
    cleanups.push(sqlite.cleanup);
    const postgres = await openPostgres(await server().createDatabase());
    cleanups.push(() => postgres.close());
    const project = { guild_id: GUILDS[0], name: 'p', slug: 'p', provider: 'gcp' as const, region: 'us-central1', created_by: 'u', created_at: T, updated_at: T };
    const [fromSqlite] = sqlite.db.insert(schema.cloudProjects).values(project).returning().all();
    const [fromPg] = await postgres.db.insert(pgSchema.cloudProjects).values(project).returning();
    expect(fromPg!.id).toBe(fromSqlite!.id);
    return { sqlite: sqliteWrites(sqlite.db, fromSqlite!.id), postgres: pgWrites(postgres.db, fromPg!.id), pg: postgres, projectId: fromPg!.id };
  }

  it('are the same, to the bit, after the same 400 inserts, updates and deletes', async () => {
    const { sqlite, postgres } = await bothDialects();
    for (const write of randomWrites(400, 16)) {
      await write(sqlite);
      await write(postgres);
    }
    const expected = await sqlite.totals();
    expect(expected.length).toBeGreaterThan(10);
    expect(await postgres.totals()).toEqual(expected);
  });

  it('follow a statement that moves several rows at once, and go back to exactly 0 when the last row leaves', async () => {
    const { sqlite, postgres } = await bothDialects();
    const [guild] = GUILDS;
    const rows = [1.5, 2.25, 4, 0.5].map((cost, i) => ({ id: i + 1, guild_id: guild, status: 'active' as const, resource_type: 'vm' as const, estimated_monthly_cost: cost, compute_instances: 1, name: `vm${i}` }));
    for (const side of [sqlite, postgres]) {
      await side.insert(rows);
      await side.updateWhere(guild, 'active', { status: 'destroyed' });
      await side.update(1, { estimated_monthly_cost: 0.1 });
      for (const { id } of rows) await side.remove(id);
    }
    const expected = await sqlite.totals();
    expect(await postgres.totals()).toEqual(expected);
    expect(expected).toEqual([
      { guild_id: guild, status: 'active', resource_type: 'vm', resources: 0, monthly_usd: 0, compute_instances: 0 },
      { guild_id: guild, status: 'destroyed', resource_type: 'vm', resources: 0, monthly_usd: 0, compute_instances: 0 },
    ]);
  });

  it('lose no count when two transactions add to one guild’s totals at once', async () => {
    const { pg, projectId } = await bothDialects();
    const table = pgSchema.cloudResources;
    const addMany = (first: number) =>
      pg.db.transaction(async (tx) => {
        for (let id = first; id < first + 50; id += 1) {
          await tx.insert(table).values({ id, project_id: projectId, guild_id: GUILDS[1], name: `r${id}`, resource_type: 'vm', estimated_monthly_cost: 2, compute_instances: 1, status: 'active', created_by: 'u', created_at: T, updated_at: T });
        }
      });
    await Promise.all([addMany(1), addMany(1001)]);
    const totals = await pg.db.select().from(pgSchema.guildResourceTotals);
    expect(totals).toEqual([{ guild_id: GUILDS[1], status: 'active', resource_type: 'vm', resources: 100, monthly_usd: 200, compute_instances: 100 }]);
  });
});
