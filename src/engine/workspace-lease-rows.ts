/**
 * The `workspace_leases` statements of each dialect, for WorkspaceLeases (workspace-leases.ts), which says what a
 * lease is. The one that differs in kind is the claim:
 * - SQLite: the claim's transaction takes the database's write lock at BEGIN, so a claim in another process waits
 *   for this one and then finds the row; reading the holder first and inserting after is safe.
 * - PostgreSQL: nothing locks a row that does not exist yet, so the claim is one atomic statement: INSERT … ON
 *   CONFLICT DO UPDATE … WHERE the row there has expired, RETURNING it. A row comes back only to the one claim that
 *   inserted it or took an expired one over; that row stays locked until the claim's transaction ends, so a claim
 *   racing it waits, then (READ COMMITTED re-reads the newest row) finds it live and is refused.
 */
import { and, eq, gt, lte, notInArray } from 'drizzle-orm';
import type { DataAccess, PgQueries, Session } from '../db/data-access.js';
import type { Db } from '../db/index.js';
import { workspaceLeases as pgWorkspaceLeases } from '../db/pg-schema.js';
import { workspaceLeases } from '../db/schema.js';
import type { WorkspaceHolder } from './errors.js';

type LeaseRow = typeof workspaceLeases.$inferSelect;

/** A claim as it is written: who takes the lease, until when. */
export interface LeaseTerms {
  guildId: string;
  workspace: string;
  owner: string;
  token: string;
  now: number;
  expiresAt: number;
}

/** What a claim found: the workspace was free and is now this claim's, or who holds it. */
export type ClaimOutcome = { claimed: true } | { claimed: false; holder: WorkspaceHolder };

export interface LeaseRows {
  /** The holder of a lease live at `now`. */
  holderOf(guildId: string, workspace: string, now: number): Promise<WorkspaceHolder | undefined>;
  /** Takes the workspace in one transaction, asking `holderFor` (inside it, joining it) only once it is free. */
  claim(terms: LeaseTerms, holderFor: () => Promise<WorkspaceHolder>): Promise<ClaimOutcome>;
  /** Deletes the lease of that claim (never a later holder's). */
  release(guildId: string, workspace: string, token: string): Promise<void>;
  /** Deletes whatever lease a run of this guild holds. */
  releaseRun(guildId: string, runNumber: number): Promise<void>;
  /** Moves the expiry of the owner's leases, but those of `except`; how many were moved. */
  renew(owner: string, expiresAt: number, except: readonly string[]): Promise<number>;
}

export function leaseRowsFor(data: DataAccess): LeaseRows {
  return data.session.dialect === 'sqlite' ? new SqliteLeaseRows(data, data.session.db) : new PgLeaseRows(data);
}

function holderOfRow(row: Pick<LeaseRow, 'run_id' | 'kind' | 'since' | 'started_by'>): WorkspaceHolder {
  return { runId: row.run_id, kind: row.kind, since: row.since, startedBy: row.started_by };
}

function holderColumns(holder: WorkspaceHolder) {
  return { run_id: holder.runId, kind: holder.kind, started_by: holder.startedBy, since: holder.since };
}

class SqliteLeaseRows implements LeaseRows {
  constructor(
    private readonly data: DataAccess,
    private readonly db: Db,
  ) {}

  async holderOf(guildId: string, workspace: string, now: number): Promise<WorkspaceHolder | undefined> {
    return this.#holderNow(guildId, workspace, now);
  }

  claim(terms: LeaseTerms, holderFor: () => Promise<WorkspaceHolder>): Promise<ClaimOutcome> {
    const { guildId, workspace, now } = terms;
    return this.data.transaction(async (): Promise<ClaimOutcome> => {
      const current = this.#holderNow(guildId, workspace, now);
      if (current) return { claimed: false, holder: current };
      const holder = await holderFor();
      // An expired row is a crashed holder's: taken over here.
      this.db.delete(workspaceLeases).where(and(this.#of(guildId, workspace), lte(workspaceLeases.expires_at, now))).run();
      this.db
        .insert(workspaceLeases)
        .values({ guild_id: guildId, workspace, ...holderColumns(holder), owner: terms.owner, token: terms.token, expires_at: terms.expiresAt })
        .run();
      return { claimed: true };
    });
  }

  async release(guildId: string, workspace: string, token: string): Promise<void> {
    this.db.delete(workspaceLeases).where(and(this.#of(guildId, workspace), eq(workspaceLeases.token, token))).run();
  }

  async releaseRun(guildId: string, runNumber: number): Promise<void> {
    this.db.delete(workspaceLeases).where(and(eq(workspaceLeases.guild_id, guildId), eq(workspaceLeases.run_id, runNumber))).run();
  }

  async renew(owner: string, expiresAt: number, except: readonly string[]): Promise<number> {
    const mine = eq(workspaceLeases.owner, owner);
    return this.db
      .update(workspaceLeases)
      .set({ expires_at: expiresAt })
      .where(except.length === 0 ? mine : and(mine, notInArray(workspaceLeases.token, [...except])))
      .run().changes;
  }

  #holderNow(guildId: string, workspace: string, now: number): WorkspaceHolder | undefined {
    const row = this.db.select().from(workspaceLeases).where(and(this.#of(guildId, workspace), gt(workspaceLeases.expires_at, now))).get();
    return row && holderOfRow(row);
  }

  #of(guildId: string, workspace: string) {
    return and(eq(workspaceLeases.guild_id, guildId), eq(workspaceLeases.workspace, workspace));
  }
}

/** A claim refused by a holder that then let go before it could be read: asked again this many times at most. */
const CLAIM_ATTEMPTS = 5;

class PgLeaseRows implements LeaseRows {
  constructor(private readonly data: DataAccess) {}

  async holderOf(guildId: string, workspace: string, now: number): Promise<WorkspaceHolder | undefined> {
    return holderNow(queriesOf(this.data.session), guildId, workspace, now);
  }

  claim(terms: LeaseTerms, holderFor: () => Promise<WorkspaceHolder>): Promise<ClaimOutcome> {
    const { guildId, workspace, now } = terms;
    const t = pgWorkspaceLeases;
    return this.data.transaction(async (session): Promise<ClaimOutcome> => {
      const db = queriesOf(session);
      for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
        // Taken with a placeholder holder, as the run it is for is written only once the workspace is known free;
        // nobody sees the placeholder: the row is this transaction's until it commits with the real holder.
        const lease = { run_id: 0, kind: 'outputs' as const, started_by: '', since: now, owner: terms.owner, token: terms.token, expires_at: terms.expiresAt };
        const taken = await db
          .insert(t)
          .values({ guild_id: guildId, workspace, ...lease })
          .onConflictDoUpdate({ target: [t.guild_id, t.workspace], set: lease, setWhere: lte(t.expires_at, now) })
          .returning({ token: t.token });
        if (taken.length > 0) {
          const holder = await holderFor();
          await db.update(t).set(holderColumns(holder)).where(and(of(guildId, workspace), eq(t.token, terms.token)));
          return { claimed: true };
        }
        const holder = await holderNow(db, guildId, workspace, now);
        if (holder) return { claimed: false, holder };
        // Released (or expired by the clock) between the two statements: the workspace may be free now.
      }
      throw new Error(`workspace ${workspace} changed hands ${CLAIM_ATTEMPTS} times during one claim`);
    });
  }

  async release(guildId: string, workspace: string, token: string): Promise<void> {
    await queriesOf(this.data.session).delete(pgWorkspaceLeases).where(and(of(guildId, workspace), eq(pgWorkspaceLeases.token, token)));
  }

  async releaseRun(guildId: string, runNumber: number): Promise<void> {
    const t = pgWorkspaceLeases;
    await queriesOf(this.data.session).delete(t).where(and(eq(t.guild_id, guildId), eq(t.run_id, runNumber)));
  }

  async renew(owner: string, expiresAt: number, except: readonly string[]): Promise<number> {
    const t = pgWorkspaceLeases;
    const mine = eq(t.owner, owner);
    const renewed = await queriesOf(this.data.session)
      .update(t)
      .set({ expires_at: expiresAt })
      .where(except.length === 0 ? mine : and(mine, notInArray(t.token, [...except])));
    return renewed.rowCount ?? 0;
  }
}

async function holderNow(db: PgQueries, guildId: string, workspace: string, now: number): Promise<WorkspaceHolder | undefined> {
  const [row] = await db
    .select()
    .from(pgWorkspaceLeases)
    .where(and(of(guildId, workspace), gt(pgWorkspaceLeases.expires_at, now)))
    .limit(1);
  return row && holderOfRow(row);
}

function of(guildId: string, workspace: string) {
  return and(eq(pgWorkspaceLeases.guild_id, guildId), eq(pgWorkspaceLeases.workspace, workspace));
}

function queriesOf(session: Session): PgQueries {
  if (session.dialect !== 'postgres') throw new Error('the PostgreSQL workspace leases were handed a SQLite session');
  return session.db;
}
