/**
 * A per-guild, per-process cache of rows nearly every interaction reads and few write (a guild's tier, its policy,
 * its project names), for the repositories that own those tables and nobody else.
 *
 * It stays correct with other writers in two ways:
 * - this process: the owning repository calls `forget(guildId)` on each of its writes (it is the only code that
 *   writes those tables);
 * - other processes (the operator's tier CLI, a second tool on the same file): SQLite's `PRAGMA data_version`
 *   changes when another connection has committed since this one last looked, and costs one cheap statement, so
 *   every lookup asks it and a change empties the cache. Our own commits leave it unchanged, hence the first rule.
 * Inside a transaction nothing is kept: what it reads may be uncommitted, and rolled back.
 */
import type Database from 'better-sqlite3';

/** Enough for every guild of a large bot; the least recently used go first beyond it. */
export const DEFAULT_CACHED_GUILDS = 10_000;

/** One `PRAGMA data_version` statement per connection, shared by every cache over it. */
const versionStatements = new WeakMap<Database.Database, Database.Statement<[], number>>();

function dataVersionOf(sqlite: Database.Database): Database.Statement<[], number> {
  let statement = versionStatements.get(sqlite);
  if (!statement) {
    statement = sqlite.prepare<[], number>('PRAGMA data_version').pluck();
    versionStatements.set(sqlite, statement);
  }
  return statement;
}

export class GuildCache<T> {
  readonly #sqlite: Database.Database;
  readonly #dataVersion: Database.Statement<[], number>;
  readonly #capacity: number;
  readonly #entries = new Map<string, T>();
  /** The connection's data_version when the entries were read; another connection's commit changes it. */
  #version: number | undefined;

  /** @param capacity guilds kept at most; 0 keeps nothing (every lookup reads the database). */
  constructor(sqlite: Database.Database, capacity: number = DEFAULT_CACHED_GUILDS) {
    this.#sqlite = sqlite;
    this.#dataVersion = dataVersionOf(sqlite);
    this.#capacity = Math.max(0, Math.trunc(capacity));
  }

  /** The guild's entry, from memory when nothing has changed since it was read, else from `load` (and kept). */
  get(guildId: string, load: () => T): T {
    if (this.#capacity === 0 || this.#sqlite.inTransaction) return load();
    const version = this.#dataVersion.get();
    if (version !== this.#version) {
      this.#entries.clear();
      this.#version = version;
    }
    if (this.#entries.has(guildId)) {
      const cached = this.#entries.get(guildId) as T;
      // Most recently used last, so the oldest is first to go.
      this.#entries.delete(guildId);
      this.#entries.set(guildId, cached);
      return cached;
    }
    const loaded = load();
    this.#entries.set(guildId, loaded);
    if (this.#entries.size > this.#capacity) this.#entries.delete(this.#entries.keys().next().value as string);
    return loaded;
  }

  /** Call on every write of the guild's rows through this process's connection (which data_version does not see). */
  forget(guildId: string): void {
    this.#entries.delete(guildId);
  }
}
