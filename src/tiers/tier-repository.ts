/**
 * The `guild_tiers` rows, read for every policy lookup (the tier's ceilings) and written by the operator's CLI,
 * often from another process, whose change must apply to the guild's next command. Two implementations over a
 * Session (src/db/data-access.ts), picked by `tierRepositoryFor`:
 * - SQLite: a statement prepared once and a per-guild cache that sees other processes' commits through SQLite's
 *   data_version (src/db/guild-cache.ts); its own writes forget the guild.
 * - PostgreSQL: read every time (the cache's capacity is 0 there: no data_version).
 */
import { asc, eq, sql } from 'drizzle-orm';
import type { PostgresSession, Session, SqliteSession } from '../db/data-access.js';
import { GuildCache } from '../db/guild-cache.js';
import type { Db } from '../db/index.js';
import { guildTiers as pgGuildTiers } from '../db/pg-schema.js';
import { guildTiers } from '../db/schema.js';
import { DEFAULT_TIER, isTierName, TIERS, type TierName } from './catalogue.js';
import type { GuildTier } from './tier-service.js';

export interface TierAssignment {
  tier: TierName;
  assignedBy: string | null;
  assignedAt: number;
}

export interface TierRepository {
  /** The guild's tier (the default one without a row). Frozen: it may be shared with other callers. */
  find(guildId: string): Promise<GuildTier>;
  /** Stores the guild's assignment; none (`undefined`) removes its row, which puts it on the default tier. */
  assign(guildId: string, assignment: TierAssignment | undefined): Promise<void>;
  /** Guilds with a row, in id order (bytewise on both dialects). */
  assignedGuilds(): Promise<string[]>;
}

export function tierRepositoryFor(session: Session): TierRepository {
  return session.dialect === 'sqlite' ? new SqliteTierRepository(session) : new PgTierRepository(session);
}

type TierRow = Pick<typeof guildTiers.$inferSelect, 'tier' | 'assigned_at' | 'assigned_by'>;

function toGuildTier(guildId: string, row: TierRow | undefined): GuildTier {
  // A name no longer in the catalogue (a downgrade of the bot) falls back to the most restrictive plan, not to none.
  const tier: TierName = row === undefined ? DEFAULT_TIER : isTierName(row.tier) ? row.tier : 'free';
  return Object.freeze({ guildId, tier, limits: TIERS[tier], assignedAt: row?.assigned_at ?? null, assignedBy: row?.assigned_by ?? null });
}

const valuesOf = (assignment: TierAssignment) => ({ tier: assignment.tier, assigned_by: assignment.assignedBy, assigned_at: assignment.assignedAt });

class SqliteTierRepository implements TierRepository {
  readonly #db: Db;
  readonly #byGuild;
  readonly #cache: GuildCache<GuildTier>;

  constructor(session: SqliteSession) {
    this.#db = session.db;
    this.#byGuild = session.db.select().from(guildTiers).where(eq(guildTiers.guild_id, sql.placeholder('guildId'))).prepare();
    this.#cache = new GuildCache(session.sqlite, 'guild_tiers');
  }

  async find(guildId: string): Promise<GuildTier> {
    return this.#cache.get(guildId, () => toGuildTier(guildId, this.#byGuild.get({ guildId })));
  }

  async assign(guildId: string, assignment: TierAssignment | undefined): Promise<void> {
    if (assignment === undefined) {
      this.#db.delete(guildTiers).where(eq(guildTiers.guild_id, guildId)).run();
    } else {
      const values = valuesOf(assignment);
      this.#db.insert(guildTiers).values({ guild_id: guildId, ...values }).onConflictDoUpdate({ target: guildTiers.guild_id, set: values }).run();
    }
    this.#cache.forget(guildId);
  }

  async assignedGuilds(): Promise<string[]> {
    return this.#db.select({ guildId: guildTiers.guild_id }).from(guildTiers).orderBy(asc(guildTiers.guild_id)).all().map((row) => row.guildId);
  }
}

class PgTierRepository implements TierRepository {
  readonly #session: PostgresSession;

  constructor(session: PostgresSession) {
    this.#session = session;
  }

  async find(guildId: string): Promise<GuildTier> {
    const [row] = await this.#session.db.select().from(pgGuildTiers).where(eq(pgGuildTiers.guild_id, guildId));
    return toGuildTier(guildId, row);
  }

  async assign(guildId: string, assignment: TierAssignment | undefined): Promise<void> {
    if (assignment === undefined) {
      await this.#session.db.delete(pgGuildTiers).where(eq(pgGuildTiers.guild_id, guildId));
      return;
    }
    const values = valuesOf(assignment);
    await this.#session.db.insert(pgGuildTiers).values({ guild_id: guildId, ...values }).onConflictDoUpdate({ target: pgGuildTiers.guild_id, set: values });
  }

  async assignedGuilds(): Promise<string[]> {
    const rows = await this.#session.db
      .select({ guildId: pgGuildTiers.guild_id })
      .from(pgGuildTiers)
      .orderBy(sql`${pgGuildTiers.guild_id} COLLATE "C"`);
    return rows.map((row) => row.guildId);
  }
}
