/**
 * Stored credentials on PostgreSQL (see credential-repository.ts for what each method does), over pg-schema.ts.
 *
 * Secrets stay out of errors: drizzle's error quotes the statement's values (a sealed secret, its IV and tag), and the
 * server's detail may quote the failing row, so a failed statement is rethrown with the server's message and its
 * SQLSTATE code only (a unique violation is still told apart by it, isUniqueViolation).
 */
import { and, eq, sql } from 'drizzle-orm';
import type { PostgresSession } from '../db/data-access.js';
import { cloudCredentials } from '../db/pg-schema.js';
import { postgresReason } from '../db/postgres.js';
import type { CredentialProvider } from '../db/schema.js';
import { defaultsOf, erasedColumns, liveOf, liveRow, toRotate } from './credential-conditions.js';
import type { CredentialRepository, CredentialRewrite, NewCredentialRow, SealedColumns } from './credential-repository.js';
import type { CredentialRow } from './credential-rows.js';

/** A statement on cloud_credentials failed; the message and code are the server's, no value of the statement's. */
export class CredentialStatementFailed extends Error {
  readonly code: string | undefined;

  constructor(error: unknown) {
    super(`a cloud_credentials statement failed: ${postgresReason(error)}`);
    this.name = 'CredentialStatementFailed';
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    this.code = cause instanceof Error && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
  }
}

async function withoutValues<T>(statement: PromiseLike<T>): Promise<T> {
  try {
    return await statement;
  } catch (error) {
    throw new CredentialStatementFailed(error);
  }
}

export class PgCredentialRepository implements CredentialRepository {
  readonly #session: PostgresSession;

  constructor(session: PostgresSession) {
    this.#session = session;
  }

  get #db() {
    return this.#session.db;
  }

  async liveByName(guildId: string, name: string): Promise<CredentialRow | undefined> {
    return this.#first(and(liveOf(cloudCredentials, guildId), eq(cloudCredentials.name, name)));
  }

  async liveById(guildId: string, id: number): Promise<CredentialRow | undefined> {
    return this.#first(and(liveOf(cloudCredentials, guildId), eq(cloudCredentials.id, id)));
  }

  async listLive(guildId: string): Promise<CredentialRow[]> {
    return withoutValues(
      this.#db
        .select()
        .from(cloudCredentials)
        .where(liveOf(cloudCredentials, guildId))
        // Bytewise, as SQLite orders text, whatever the database's collation.
        .orderBy(sql`${cloudCredentials.name} COLLATE "C"`),
    );
  }

  async liveDefault(guildId: string, provider: CredentialProvider): Promise<CredentialRow | undefined> {
    return this.#first(defaultsOf(cloudCredentials, guildId, provider));
  }

  async insert(row: NewCredentialRow): Promise<CredentialRow> {
    const [inserted] = await withoutValues(this.#db.insert(cloudCredentials).values(row).returning());
    if (!inserted) throw new Error('the credential insert returned no row');
    return inserted;
  }

  async clearDefaults(guildId: string, provider: CredentialProvider, exceptId?: number): Promise<void> {
    await withoutValues(this.#db.update(cloudCredentials).set({ is_default: false }).where(defaultsOf(cloudCredentials, guildId, provider, exceptId)));
  }

  async makeDefault(id: number): Promise<void> {
    await withoutValues(this.#db.update(cloudCredentials).set({ is_default: true }).where(eq(cloudCredentials.id, id)));
  }

  async markUsed(id: number, now: number): Promise<void> {
    await withoutValues(this.#db.update(cloudCredentials).set({ last_used_at: now }).where(eq(cloudCredentials.id, id)));
  }

  async erase(id: number, now: number): Promise<void> {
    await withoutValues(this.#db.update(cloudCredentials).set(erasedColumns(now)).where(liveRow(cloudCredentials, id)));
  }

  async rewrite(id: number, changes: CredentialRewrite): Promise<CredentialRow | undefined> {
    const [row] = await withoutValues(this.#db.update(cloudCredentials).set(changes).where(liveRow(cloudCredentials, id)).returning());
    return row;
  }

  async idsToRotate(currentKeyId: string, guildId?: string): Promise<number[]> {
    const rows = await withoutValues(
      this.#db.select({ id: cloudCredentials.id }).from(cloudCredentials).where(toRotate(cloudCredentials, currentKeyId, guildId)).orderBy(cloudCredentials.id),
    );
    return rows.map((row) => row.id);
  }

  async liveOfAnyGuild(id: number): Promise<CredentialRow | undefined> {
    return this.#first(liveRow(cloudCredentials, id));
  }

  async resealIfUnder(id: number, fromKeyId: string, sealed: SealedColumns): Promise<number> {
    const rows = await withoutValues(
      this.#db
        .update(cloudCredentials)
        .set(sealed)
        .where(and(eq(cloudCredentials.id, id), eq(cloudCredentials.master_key_id, fromKeyId)))
        .returning({ id: cloudCredentials.id }),
    );
    return rows.length;
  }

  /**
   * Nothing the bot can do: the old row version stays a dead tuple until the server's (auto)vacuum reclaims it, and
   * in the server's WAL and backups as long as they are kept: PostgreSQL has no secure_delete.
   */
  async afterErasure(): Promise<void> {}

  async #first(where: ReturnType<typeof liveRow>): Promise<CredentialRow | undefined> {
    const [row] = await withoutValues(this.#db.select().from(cloudCredentials).where(where).limit(1));
    return row;
  }
}
