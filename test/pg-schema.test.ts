/**
 * PostgreSQL's schema is SQLite's, table for table (issue 16): first as declared (src/db/pg-schema.ts against
 * src/db/schema.ts), then as migrated (drizzle/pg applied by drizzle's node-postgres migrator on a real server,
 * against drizzle/ applied to a real SQLite file), so a column, index, key or trigger added to one side only fails here.
 */
import { getTableColumns, type SQL } from 'drizzle-orm';
import { getTableConfig as pgTableConfig, PgDialect, type PgColumn } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteTableConfig, SQLiteSyncDialect, type SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { tablePairs } from '../src/db/migrate-to-postgres.js';
import { openPostgres } from '../src/db/postgres.js';
import { describeWithPostgres, freePort } from './support/postgres-server.js';
import { makeTestDatabase } from './support/tmp.js';

/** How many migrations drizzle/pg holds: each must be applied exactly once. */
const PG_MIGRATIONS = (JSON.parse(readFileSync(new URL('../drizzle/pg/meta/_journal.json', import.meta.url), 'utf8')) as { entries: unknown[] }).entries.length;

/** SQLite's column kinds and the PostgreSQL ones that keep their values (see pg-schema.ts). */
const FAITHFUL_TYPES: Record<string, string[]> = {
  SQLiteInteger: ['PgInteger', 'PgBigInt53'],
  SQLiteBoolean: ['PgBoolean'],
  SQLiteText: ['PgText'],
  SQLiteReal: ['PgDoublePrecision'],
  SQLiteBlobBuffer: ['PgCustomColumn'],
};

const sqliteDialect = new SQLiteSyncDialect();
const pgDialect = new PgDialect();

/** An index's predicate, SQLite's `revoked = 0` on a boolean written as PostgreSQL's `revoked = false`. */
function predicate(where: SQL | undefined, render: (where: SQL) => string, booleans: Set<string>): string | null {
  if (where === undefined) return null;
  return render(where).replace(/\b(\w+) = ([01])\b/g, (whole, column: string, bit: string) => (booleans.has(column) ? `${column} = ${bit === '1' ? 'true' : 'false'}` : whole));
}

describe('the PostgreSQL schema as declared', () => {
  const pairs = tablePairs();

  it('has every table of schema.ts and no other, each with the same columns under the same names', () => {
    expect(pairs.length).toBeGreaterThan(10);
    for (const pair of pairs) {
      const sqliteColumns = Object.entries(getTableColumns(pair.sqlite)).map(([key, column]) => [key, column.name]);
      const pgColumns = Object.entries(getTableColumns(pair.pg)).map(([key, column]) => [key, column.name]);
      expect(pgColumns, pair.name).toEqual(sqliteColumns);
    }
  });

  it('gives each column a type that keeps its values, the same nullability, default, enum and primary key', () => {
    for (const pair of pairs) {
      const pgColumns = getTableColumns(pair.pg) as Record<string, PgColumn>;
      for (const [key, column] of Object.entries(getTableColumns(pair.sqlite)) as Array<[string, SQLiteColumn]>) {
        const twin = pgColumns[key]!;
        const where = `${pair.name}.${column.name}`;
        expect(FAITHFUL_TYPES[column.columnType], where).toContain(twin.columnType);
        if (twin.columnType === 'PgCustomColumn') expect(twin.getSQLType(), where).toBe('bytea');
        // Epoch milliseconds and lengths in milliseconds outgrow a 32-bit integer.
        if (/_(at|ms)$/.test(column.name) || (column.primary && column.columnType === 'SQLiteInteger')) expect(twin.columnType, where).toBe('PgBigInt53');
        expect({ notNull: twin.notNull, primary: twin.primary, hasDefault: twin.hasDefault, default: twin.default, enum: twin.enumValues }, where).toEqual({
          notNull: column.notNull,
          primary: column.primary,
          hasDefault: column.hasDefault || twin.generatedIdentity !== undefined,
          default: column.default,
          enum: column.enumValues,
        });
      }
    }
  });

  it('has the same indexes (columns, uniqueness, partial predicates), composite keys and foreign keys', () => {
    for (const pair of pairs) {
      const sqlite = sqliteTableConfig(pair.sqlite);
      const postgres = pgTableConfig(pair.pg);
      const booleans = new Set(sqlite.columns.filter((column) => column.columnType === 'SQLiteBoolean').map((column) => column.name));
      const sqliteIndexes = sqlite.indexes.map(({ config }) => ({
        name: config.name,
        unique: config.unique,
        columns: config.columns.map((column) => (column as SQLiteColumn).name),
        where: predicate(config.where, (where) => sqliteDialect.sqlToQuery(where).sql, booleans),
      }));
      const pgIndexes = postgres.indexes.map(({ config }) => ({
        name: config.name,
        unique: config.unique,
        columns: config.columns.map((column) => (column as PgColumn).name),
        where: predicate(config.where, (where) => pgDialect.sqlToQuery(where).sql, new Set()),
      }));
      expect(pgIndexes, pair.name).toEqual(sqliteIndexes);
      expect(postgres.primaryKeys.map((key) => key.columns.map((column) => column.name)), pair.name).toEqual(sqlite.primaryKeys.map((key) => key.columns.map((column) => column.name)));
      const foreignKeys = (keys: typeof postgres.foreignKeys | typeof sqlite.foreignKeys) =>
        keys.map((key) => {
          const reference = key.reference();
          return { columns: reference.columns.map((c) => c.name), to: reference.foreignColumns.map((c) => c.name), onDelete: key.onDelete ?? 'no action' };
        });
      expect(foreignKeys(postgres.foreignKeys), pair.name).toEqual(foreignKeys(sqlite.foreignKeys));
    }
  });
});

interface CatalogColumn {
  name: string;
  notNull: boolean;
  primaryKeyPosition: number;
}
interface CatalogIndex {
  name: string;
  unique: boolean;
  partial: boolean;
  columns: string[];
}
interface Catalog {
  tables: Record<string, { columns: CatalogColumn[]; indexes: CatalogIndex[]; foreignKeys: string[] }>;
  triggers: string[];
}

/** What a migrated SQLite file holds, read from SQLite's own catalogue. */
function sqliteCatalog(): Catalog {
  const database = makeTestDatabase();
  try {
    const all = <T>(query: string, ...params: unknown[]) => database.sqlite.prepare(query).all(...params) as T[];
    const tables = all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__drizzle%' ORDER BY name");
    const catalog: Catalog = { tables: {}, triggers: [] };
    for (const { name } of tables) {
      const columns = all<{ name: string; notnull: number; pk: number }>(`PRAGMA table_info("${name}")`).map((column) => ({
        name: column.name,
        // A key column is never null, whether or not SQLite's catalogue says NOT NULL of a rowid alias.
        notNull: column.notnull === 1 || column.pk > 0,
        primaryKeyPosition: column.pk,
      }));
      const indexes = all<{ name: string; unique: number; origin: string; partial: number }>(`PRAGMA index_list("${name}")`)
        .filter((index) => index.origin === 'c')
        .map((index) => ({
          name: index.name,
          unique: index.unique === 1,
          partial: index.partial === 1,
          columns: all<{ name: string }>(`PRAGMA index_info("${index.name}")`).map((column) => column.name),
        }));
      const foreignKeys = all<{ from: string; table: string; to: string; on_delete: string }>(`PRAGMA foreign_key_list("${name}")`).map(
        (key) => `${key.from} -> ${key.table}.${key.to} on delete ${key.on_delete.toLowerCase()}`,
      );
      catalog.tables[name] = { columns: columns.sort((a, b) => a.name.localeCompare(b.name)), indexes: indexes.sort((a, b) => a.name.localeCompare(b.name)), foreignKeys: foreignKeys.sort() };
    }
    catalog.triggers = all<{ name: string; tbl_name: string }>("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' ORDER BY name").map((t) => `${t.tbl_name}.${t.name}`);
    return catalog;
  } finally {
    database.cleanup();
  }
}

const ON_DELETE: Record<string, string> = { a: 'no action', c: 'cascade', r: 'restrict', n: 'set null', d: 'set default' };

/** What the migrated PostgreSQL database holds, read from its catalogue. */
async function pgCatalog(url: string): Promise<Catalog> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const rows = async <T extends pg.QueryResultRow>(query: string) => (await client.query<T>(query)).rows;
    const catalog: Catalog = { tables: {}, triggers: [] };
    const tables = await rows<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
    for (const { name } of tables) {
      const columns = await rows<{ name: string; nullable: string; pk: number }>(`
        SELECT c.column_name AS name, c.is_nullable AS nullable, coalesce((SELECT k.n FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) WHERE k.attnum = a.attnum), 0)::int AS pk
        FROM information_schema.columns c
        JOIN pg_attribute a ON a.attrelid = '"${name}"'::regclass AND a.attname = c.column_name
        LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
        WHERE c.table_schema = 'public' AND c.table_name = '${name}'`);
      const indexes = await rows<{ name: string; unique: boolean; partial: boolean; columns: string[] }>(`
        SELECT ic.relname AS name, i.indisunique AS unique, i.indpred IS NOT NULL AS partial,
          array(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n) AS columns
        FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
        WHERE i.indrelid = '"${name}"'::regclass AND NOT i.indisprimary`);
      const foreignKeys = await rows<{ key: string; on_delete: string }>(`
        SELECT a.attname || ' -> ' || ft.relname || '.' || fa.attname AS key, c.confdeltype AS on_delete
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        JOIN pg_class ft ON ft.oid = c.confrelid
        JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1]
        WHERE c.conrelid = '"${name}"'::regclass AND c.contype = 'f'`);
      catalog.tables[name] = {
        columns: columns.map((column) => ({ name: column.name, notNull: column.nullable === 'NO', primaryKeyPosition: column.pk })).sort((a, b) => a.name.localeCompare(b.name)),
        indexes: indexes.sort((a, b) => a.name.localeCompare(b.name)),
        foreignKeys: foreignKeys.map((row) => `${row.key} on delete ${ON_DELETE[row.on_delete] ?? row.on_delete}`).sort(),
      };
    }
    catalog.triggers = (
      await rows<{ name: string }>("SELECT c.relname || '.' || t.tgname AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal ORDER BY 1")
    ).map((row) => row.name);
    return catalog;
  } finally {
    await client.end();
  }
}

describeWithPostgres('the PostgreSQL schema as migrated on a real server', (server) => {
  const handles: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(handles.splice(0).map((handle) => handle.close()));
  });

  it('has the tables, columns, keys, indexes, foreign keys and triggers SQLite has after its migrations', async () => {
    const url = await server().createDatabase();
    handles.push(await openPostgres(url));
    const postgres = await pgCatalog(url);
    const sqlite = sqliteCatalog();
    expect(Object.keys(postgres.tables)).toEqual(Object.keys(sqlite.tables));
    for (const [name, table] of Object.entries(sqlite.tables)) expect(postgres.tables[name], name).toEqual(table);
    expect(postgres.triggers).toEqual(sqlite.triggers);
    expect(sqlite.triggers).toHaveLength(3);
  });

  it('is migrated once when several processes start together, and again without change on the next start', async () => {
    const url = await server().createDatabase();
    const together = await Promise.all([openPostgres(url), openPostgres(url), openPostgres(url, { maxConnections: 1 })]);
    handles.push(...together);
    handles.push(await openPostgres(url));
    const applied = await together[0]!.pool.query<{ count: string }>('SELECT count(*) FROM drizzle.__drizzle_migrations');
    expect(PG_MIGRATIONS).toBeGreaterThan(0);
    expect(Number(applied.rows[0]!.count)).toBe(PG_MIGRATIONS);
  });

  it('names the server but never the password when it cannot connect', async () => {
    // A port nothing listens on: taken from the OS, then let go.
    const closedPort = await freePort();
    await expect(openPostgres(`postgres://chatops:hunter2-secret@127.0.0.1:${closedPort}/chatops`)).rejects.toThrow(
      new RegExp(`^Could not connect to PostgreSQL at 127\\.0\\.0\\.1:${closedPort}/chatops: .*ECONNREFUSED`),
    );
    await openPostgres(`postgres://chatops:hunter2-secret@127.0.0.1:${closedPort}/chatops`).catch((error: Error) => expect(error.message).not.toContain('hunter2'));
  });
});
