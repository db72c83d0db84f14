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
}

const connections = new WeakMap<Database.Database, Connection>();

function connectionOf(sqlite: Database.Database): Connection {
  let connection = connections.get(sqlite);
  if (!connection) {
    connection = { version: new DataVersion(sqlite), entries: new Map() };
    connections.set(sqlite, connection);
  }
  return connection;
}

export class GuildCache<T> {
  readonly #sqlite: Database.Database;
  readonly #dataVersion: DataVersion;
  readonly #capacity: number;
  readonly #entries: Entries;

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

  /** For a write whose guilds are not known without reading them back (a set of rows by id): forgets every guild. */
  forgetAll(): void {
    this.#entries.byGuild.clear();
  }
}
