/**
 * Stored credentials on SQLite (see credential-repository.ts for what each method does): drizzle over the shared
 * connection, run synchronously inside each method, so a unit of work (src/db/data-access.ts) covers them.
 */
import { and, eq } from 'drizzle-orm';
import type { SqliteSession } from '../db/data-access.js';
import { checkpointAfterErasure, cloudCredentials, type CredentialProvider } from '../db/index.js';
import { defaultsOf, erasedColumns, liveOf, liveRow, toRotate } from './credential-conditions.js';
import type { CredentialRepository, CredentialRewrite, NewCredentialRow, SealedColumns } from './credential-repository.js';
import type { CredentialRow } from './credential-rows.js';

export class SqliteCredentialRepository implements CredentialRepository {
  readonly #session: SqliteSession;

  constructor(session: SqliteSession) {
    this.#session = session;
  }

  get #db() {
    return this.#session.db;
  }

  async liveByName(guildId: string, name: string): Promise<CredentialRow | undefined> {
    return this.#db
      .select()
      .from(cloudCredentials)
      .where(and(liveOf(cloudCredentials, guildId), eq(cloudCredentials.name, name)))
      .get();
  }

  async liveById(guildId: string, id: number): Promise<CredentialRow | undefined> {
    return this.#db
      .select()
      .from(cloudCredentials)
      .where(and(liveOf(cloudCredentials, guildId), eq(cloudCredentials.id, id)))
      .get();
  }

  async listLive(guildId: string): Promise<CredentialRow[]> {
    return this.#db.select().from(cloudCredentials).where(liveOf(cloudCredentials, guildId)).orderBy(cloudCredentials.name).all();
  }

  async liveDefault(guildId: string, provider: CredentialProvider): Promise<CredentialRow | undefined> {
    return this.#db.select().from(cloudCredentials).where(defaultsOf(cloudCredentials, guildId, provider)).get();
  }

  async insert(row: NewCredentialRow): Promise<CredentialRow> {
    return this.#db.insert(cloudCredentials).values(row).returning().get();
  }

  async clearDefaults(guildId: string, provider: CredentialProvider, exceptId?: number): Promise<void> {
    this.#db.update(cloudCredentials).set({ is_default: false }).where(defaultsOf(cloudCredentials, guildId, provider, exceptId)).run();
  }

  async makeDefault(id: number): Promise<void> {
    this.#db.update(cloudCredentials).set({ is_default: true }).where(eq(cloudCredentials.id, id)).run();
  }

  async markUsed(id: number, now: number): Promise<void> {
    this.#db.update(cloudCredentials).set({ last_used_at: now }).where(eq(cloudCredentials.id, id)).run();
  }

  async erase(id: number, now: number): Promise<void> {
    this.#db.update(cloudCredentials).set(erasedColumns(now)).where(liveRow(cloudCredentials, id)).run();
  }

  async rewrite(id: number, changes: CredentialRewrite): Promise<CredentialRow | undefined> {
    return this.#db.update(cloudCredentials).set(changes).where(liveRow(cloudCredentials, id)).returning().get();
  }

  async idsToRotate(currentKeyId: string, guildId?: string): Promise<number[]> {
    const rows = this.#db.select({ id: cloudCredentials.id }).from(cloudCredentials).where(toRotate(cloudCredentials, currentKeyId, guildId)).all();
    return rows.map((row) => row.id);
  }

  async liveOfAnyGuild(id: number): Promise<CredentialRow | undefined> {
    return this.#db.select().from(cloudCredentials).where(liveRow(cloudCredentials, id)).get();
  }

  async resealIfUnder(id: number, fromKeyId: string, sealed: SealedColumns): Promise<number> {
    const result = this.#db
      .update(cloudCredentials)
      .set(sealed)
      .where(and(eq(cloudCredentials.id, id), eq(cloudCredentials.master_key_id, fromKeyId)))
      .run();
    return result.changes;
  }

  /**
   * The old ciphertext is zeroed in free pages (PRAGMA secure_delete, set at open) and checkpointed out of the WAL
   * here. Inside a transaction the checkpoint could not run: it waits for the next erasure then (best effort, as the
   * checkpoint is anyway).
   */
  async afterErasure(): Promise<void> {
    if (this.#session.sqlite.inTransaction) return;
    checkpointAfterErasure(this.#db);
  }
}
