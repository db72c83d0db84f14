/**
 * The `budget_holds` rows (see budget-reservations.ts for what a hold is), on either dialect: the same drizzle
 * statements over sqlite's schema or pg-schema's, synchronous on SQLite inside `async` methods, awaited on PostgreSQL.
 */
import { and, eq, gt, sql } from 'drizzle-orm';
import type { PostgresSession, Session, SqliteSession } from '../db/data-access.js';
import { budgetHolds as pgBudgetHolds } from '../db/pg-schema.js';
import { budgetHolds } from '../db/schema.js';
import type { Reserved } from '../policy/policy-service.js';

export type HoldValues = Omit<typeof budgetHolds.$inferInsert, 'guild_id' | 'resource_id'>;

export interface BudgetHolds {
  /** The guild's holds still in force at `now`, summed (every owner's). */
  reserved(guildId: string, now: number): Promise<Reserved>;
  /** Creates or replaces the resource's hold (a row left by a crashed holder of the same resource is replaced). */
  put(guildId: string, resourceId: number, values: HoldValues): Promise<void>;
  /** Removes the resource's hold if `owner` holds it. */
  remove(guildId: string, resourceId: number, owner: string): Promise<void>;
  /** Moves every hold of `owner` to expire at `expiresAt`; how many there were. */
  renew(owner: string, expiresAt: number): Promise<number>;
}

export function budgetHoldsFor(session: Session): BudgetHolds {
  return session.dialect === 'sqlite' ? new SqliteBudgetHolds(session) : new PgBudgetHolds(session);
}

class SqliteBudgetHolds implements BudgetHolds {
  readonly #session: SqliteSession;

  constructor(session: SqliteSession) {
    this.#session = session;
  }

  async reserved(guildId: string, now: number): Promise<Reserved> {
    const row = this.#session.db
      .select({ monthlyUsd: sql<number>`coalesce(sum(${budgetHolds.monthly_usd}), 0)`, vms: sql<number>`coalesce(sum(${budgetHolds.vms}), 0)` })
      .from(budgetHolds)
      .where(and(eq(budgetHolds.guild_id, guildId), gt(budgetHolds.expires_at, now)))
      .get();
    return { monthlyUsd: row?.monthlyUsd ?? 0, vms: row?.vms ?? 0 };
  }

  async put(guildId: string, resourceId: number, values: HoldValues): Promise<void> {
    this.#session.db
      .insert(budgetHolds)
      .values({ guild_id: guildId, resource_id: resourceId, ...values })
      .onConflictDoUpdate({ target: [budgetHolds.guild_id, budgetHolds.resource_id], set: values })
      .run();
  }

  async remove(guildId: string, resourceId: number, owner: string): Promise<void> {
    this.#session.db
      .delete(budgetHolds)
      .where(and(eq(budgetHolds.guild_id, guildId), eq(budgetHolds.resource_id, resourceId), eq(budgetHolds.owner, owner)))
      .run();
  }

  async renew(owner: string, expiresAt: number): Promise<number> {
    return this.#session.db.update(budgetHolds).set({ expires_at: expiresAt }).where(eq(budgetHolds.owner, owner)).run().changes;
  }
}

class PgBudgetHolds implements BudgetHolds {
  readonly #session: PostgresSession;

  constructor(session: PostgresSession) {
    this.#session = session;
  }

  async reserved(guildId: string, now: number): Promise<Reserved> {
    // sum() of an integer is a bigint, which node-postgres hands over as a string: cast, and map to numbers.
    const [row] = await this.#session.db
      .select({
        monthlyUsd: sql<number>`coalesce(sum(${pgBudgetHolds.monthly_usd}), 0)::float8`.mapWith(Number),
        vms: sql<number>`coalesce(sum(${pgBudgetHolds.vms}), 0)::int`.mapWith(Number),
      })
      .from(pgBudgetHolds)
      .where(and(eq(pgBudgetHolds.guild_id, guildId), gt(pgBudgetHolds.expires_at, now)));
    return { monthlyUsd: row?.monthlyUsd ?? 0, vms: row?.vms ?? 0 };
  }

  async put(guildId: string, resourceId: number, values: HoldValues): Promise<void> {
    await this.#session.db
      .insert(pgBudgetHolds)
      .values({ guild_id: guildId, resource_id: resourceId, ...values })
      .onConflictDoUpdate({ target: [pgBudgetHolds.guild_id, pgBudgetHolds.resource_id], set: values });
  }

  async remove(guildId: string, resourceId: number, owner: string): Promise<void> {
    await this.#session.db
      .delete(pgBudgetHolds)
      .where(and(eq(pgBudgetHolds.guild_id, guildId), eq(pgBudgetHolds.resource_id, resourceId), eq(pgBudgetHolds.owner, owner)));
  }

  async renew(owner: string, expiresAt: number): Promise<number> {
    const result = await this.#session.db.update(pgBudgetHolds).set({ expires_at: expiresAt }).where(eq(pgBudgetHolds.owner, owner));
    return result.rowCount ?? 0;
  }
}
