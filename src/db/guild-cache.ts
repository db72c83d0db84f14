/**
 * A per-guild, per-process cache of rows nearly every interaction reads and few write (a guild's tier, its policy,
 * its project names), for the repositories that own those tables and nobody else.
 *
 * It stays correct with other writers in two ways:
 * - this process: the owning repository calls `forget(guildId)` on each of its writes (it is the only code that
 *   writes those tables);
 * - other processes (the operator's tier CLI, a second tool on the same file): SQLite's `PRAGMA data_version`
 *   changes when another connection has committed since this one last looked, and costs one cheap statement, so
 *   a lookup asks it and a change empties the cache. Our own commits leave it unchanged, hence the first rule.
 *   Each statement outside a transaction takes and releases SQLite's shared-memory read lock, which made the pragma
 *   a tenth of a refused /cloud-deploy's statements; so it is asked once per stretch of work (the answer is kept
 *   until the event loop turns: a stretch's synchronous code and the microtasks of its awaits, which on SQLite wait for
 *   nothing) and shared by every cache on the connection. Another process's commit cannot
 *   be told apart from one that came just after that stretch. A checkpoint by another connection (the WAL worker's)
 *   counts as a change too: at worst the caches are refilled once a second.
 * Inside a transaction nothing is kept: what it reads may be uncommitted, and rolled back.
 *
 * A cache of rows that many code paths write (a guild's resources: the deploy, the TTL janitor, drift, recovery) need
 * not trust each of them to forget: `forgetOnWrites` has SQLite itself tell it of this connection's writes, through
 * TEMP triggers (this connection's alone, in no migration) that call back into the process with the row's guild.
 */
import type Database from 'better-sqlite3';

/** Enough for every guild of a large bot; the least recently used go first beyond it. */
export const DEFAULT_CACHED_GUILDS = 10_000;

/** The connection's data_version, read once per turn of the event loop and shared by every cache over it. */
class DataVersion {
  readonly #statement: Database.Statement<[], number>;
  #current: number | undefined;
  readonly #expire = () => {
    this.#current = undefined;
  };

  constructor(sqlite: Database.Database) {
    this.#statement = sqlite.prepare<[], number>('PRAGMA data_version').pluck();
  }

  get(): number {
    if (this.#current === undefined) {
      this.#current = this.#statement.get() as number;
      // Until the event loop turns, not the next microtask: the repositories are asynchronous (data-access.ts), so
      // one interaction's lookups are separated by awaits of settled promises, and each would ask again.
      setImmediate(this.#expire);
    }
    return this.#current;
  }
}

/** What the caches of one name hold on one connection, shared by every instance (see GuildCache's `name`). */
interface Entries {
  byGuild: Map<string, unknown>;
  /** The connection's data_version when they were read; another connection's commit changes it. */
  version: number | undefined;
}

interface Connection {
  version: DataVersion;
  entries: Map<string, Entries>;
  /** Whether FORGET_FUNCTION is registered on the connection (forgetOnWrites). */
  forgetsOnWrites: boolean;
}

/** A table whose inserts and deletes, and updates of `columns`, forget the row's guild (a `guild_id` column). */
export interface WatchedTable {
  table: string;
  columns: readonly string[];
}

/** The SQL function the TEMP triggers call: (cache name, guild id). */
const FORGET_FUNCTION = 'chatops_guild_cache_forget';
/** Names written into the triggers' SQL: plain identifiers only. */
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

const connections = new WeakMap<Database.Database, Connection>();

function connectionOf(sqlite: Database.Database): Connection {
  let connection = connections.get(sqlite);
  if (!connection) {
    connection = { version: new DataVersion(sqlite), entries: new Map(), forgetsOnWrites: false };
    connections.set(sqlite, connection);
  }
  return connection;
}

export class GuildCache<T> {
  readonly #sqlite: Database.Database;
  readonly #dataVersion: DataVersion;
  readonly #capacity: number;
  readonly #entries: Entries;
  readonly #name: string;

  /**
   * @param name what is cached (the table, say): every cache of that name on the connection shares its entries, so
   *   a write forgotten through one repository instance is forgotten by all (data_version never shows our own).
   * @param capacity guilds kept at most; 0 keeps nothing (every lookup reads the database).
   */
  constructor(sqlite: Database.Database, name: string, capacity: number = DEFAULT_CACHED_GUILDS) {
    this.#sqlite = sqlite;
    const connection = connectionOf(sqlite);
    this.#dataVersion = connection.version;
    this.#capacity = Math.max(0, Math.trunc(capacity));
    this.#name = name;
    let entries = connection.entries.get(name);
    if (!entries) connection.entries.set(name, (entries = { byGuild: new Map(), version: undefined }));
    this.#entries = entries;
  }

  /** The guild's entry, from memory when nothing has changed since it was read, else from `load` (and kept). */
  get(guildId: string, load: () => T): T {
    if (this.#capacity === 0 || this.#sqlite.inTransaction) return load();
    const version = this.#dataVersion.get();
    const entries = this.#entries;
    if (version !== entries.version) {
      entries.byGuild.clear();
      entries.version = version;
    }
    if (entries.byGuild.has(guildId)) {
      const cached = entries.byGuild.get(guildId) as T;
      // Most recently used last, so the oldest is first to go.
      entries.byGuild.delete(guildId);
      entries.byGuild.set(guildId, cached);
      return cached;
    }
    const loaded = load();
    entries.byGuild.set(guildId, loaded);
    if (entries.byGuild.size > this.#capacity) entries.byGuild.delete(entries.byGuild.keys().next().value as string);
    return loaded;
  }

  /** Call on every write of the guild's rows through this process's connection (which data_version does not see). */
  forget(guildId: string): void {
    this.#entries.byGuild.delete(guildId);
  }

  /**
   * Has every write of `tables` through this connection forget the row's guild, whoever makes it, from the moment of
   * the statement (a write rolled back later only costs a reload). Idempotent per name and table. Other connections'
   * commits are seen as before, through data_version.
   */
  forgetOnWrites(tables: readonly WatchedTable[]): this {
    if (!/^[\w.]+$/.test(this.#name)) throw new RangeError(`a cache watching writes needs a plain name, not ${JSON.stringify(this.#name)}`);
    const connection = connectionOf(this.#sqlite);
    if (!connection.forgetsOnWrites) {
      this.#sqlite.function(FORGET_FUNCTION, { deterministic: false }, (name: unknown, guildId: unknown) => {
        if (typeof name === 'string' && typeof guildId === 'string') connection.entries.get(name)?.byGuild.delete(guildId);
        return null;
      });
      connection.forgetsOnWrites = true;
    }
    const cache = `'${this.#name}'`;
    const prefix = `guild_cache_${this.#name.replace(/\W/g, '_')}`;
    for (const { table, columns } of tables) {
      if (columns.length === 0) throw new RangeError(`say which columns of ${table} the cache shows`);
      for (const identifier of [table, ...columns]) if (!IDENTIFIER.test(identifier)) throw new RangeError(`not a plain SQL name: ${identifier}`);
      const forget = (row: 'new' | 'old') => `SELECT ${FORGET_FUNCTION}(${cache}, ${row}.guild_id);`;
      this.#sqlite.exec(`
        CREATE TEMP TRIGGER IF NOT EXISTS ${prefix}_${table}_insert AFTER INSERT ON main.${table} BEGIN ${forget('new')} END;
        CREATE TEMP TRIGGER IF NOT EXISTS ${prefix}_${table}_delete AFTER DELETE ON main.${table} BEGIN ${forget('old')} END;
        CREATE TEMP TRIGGER IF NOT EXISTS ${prefix}_${table}_update AFTER UPDATE OF ${columns.join(', ')} ON main.${table}
          BEGIN ${forget('old')} ${forget('new')} END;`);
    }
    return this;
  }

  /** For a write whose guilds are not known without reading them back (a set of rows by id): forgets every guild. */
  forgetAll(): void {
    this.#entries.byGuild.clear();
  }
}
