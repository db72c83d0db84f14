/**
 * Copies a SQLite database of the bot into an empty PostgreSQL one (issue 16; npm run db:migrate-to-postgres): every
 * table of schema.ts into its twin of pg-schema.ts, rows as they are (ids included), in one PostgreSQL transaction,
 * so the target ends up either with everything or with nothing.
 *
 * - Tables go in foreign-key order (read from the schema, so a new table needs no change here).
 * - Triggers are off during the copy: guild_resource_totals is copied as SQLite kept it, not summed again by
 *   PostgreSQL's triggers while cloud_resources arrives (which would then collide with the copied totals).
 * - Each id sequence is moved past the highest id SQLite ever gave (sqlite_sequence, not just the largest row left),
 *   so an id a deleted row had, which a button or an old message may still name, is never given to a new row.
 * - The source is read in one read transaction (a consistent snapshot), in batches, so a long audit log is not held
 *   in memory whole.
 */
import type Database from 'better-sqlite3';
import { getTableColumns, getTableName, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { getTableConfig, type PgColumn, type PgTable } from 'drizzle-orm/pg-core';
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { pgSchema } from './pg-schema.js';
import { postgresReason, type PgDb } from './postgres.js';
import { schema } from './schema.js';

export interface TablePair {
  name: string;
  sqlite: SQLiteTable;
  pg: PgTable;
}

type TableKey = keyof typeof schema;

/** schema.ts's tables with their PostgreSQL twins, by the name both give them. */
export function tablePairs(): TablePair[] {
  return (Object.keys(schema) as TableKey[]).map((key) => {
    const sqliteTable: SQLiteTable = schema[key];
    const pgTable: PgTable | undefined = (pgSchema as Partial<Record<TableKey, PgTable>>)[key];
    const name = getTableName(sqliteTable);
    if (pgTable === undefined || getTableName(pgTable) !== name) throw new Error(`pg-schema.ts has no table ${name} as schema.ts has`);
    return { name, sqlite: sqliteTable, pg: pgTable };
  });
}

/** The tables so that every table comes after those its foreign keys point to. */
export function inForeignKeyOrder(pairs: TablePair[]): TablePair[] {
  const byName = new Map(pairs.map((pair) => [pair.name, pair]));
  const ordered: TablePair[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (pair: TablePair): void => {
    if (state.get(pair.name) === 'done') return;
    if (state.get(pair.name) === 'visiting') throw new Error(`the foreign keys of ${pair.name} go round in a circle`);
    state.set(pair.name, 'visiting');
    for (const foreignKey of getTableConfig(pair.pg).foreignKeys) {
      const target = getTableName(foreignKey.reference().foreignTable);
      const referenced = byName.get(target);
      if (referenced !== undefined && referenced !== pair) visit(referenced);
    }
    state.set(pair.name, 'done');
    ordered.push(pair);
  };
  pairs.forEach(visit);
  return ordered;
}

/** The target already holds rows: nothing was copied. */
export class TargetNotEmpty extends Error {
  constructor(readonly tables: string[]) {
    super(
      `the PostgreSQL database already holds rows (in ${tables.join(', ')}), so nothing was copied: the copy only fills an empty ` +
        'database, never merges into one. Give DATABASE_URL a new, empty database (createdb), or empty this one yourself first.',
    );
    this.name = 'TargetNotEmpty';
  }
}

/** The copy stopped on PostgreSQL's refusal (a row, a permission); the transaction was rolled back. */
export class CopyFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyFailed';
  }
}

export interface CopiedTable {
  table: string;
  rows: number;
}

/** PostgreSQL takes at most 65,535 parameters a statement; a batch stays well below. */
const PARAMETERS_PER_BATCH = 30_000;

interface ColumnPair {
  sqlite: SQLiteColumn;
  pg: PgColumn;
}

function columnPairs(pair: TablePair): ColumnPair[] {
  const sqliteColumns = getTableColumns(pair.sqlite);
  return Object.entries(getTableColumns(pair.pg)).map(([key, pgColumn]) => {
    const sqliteColumn = sqliteColumns[key];
    if (sqliteColumn === undefined) throw new Error(`schema.ts has no column ${pair.name}.${pgColumn.name} as pg-schema.ts has`);
    return { sqlite: sqliteColumn, pg: pgColumn };
  });
}

/** A stored SQLite value as the bot reads it (0/1 as false/true...), then as PostgreSQL's column takes it. */
function parameter(raw: unknown, column: ColumnPair): SQLWrapper {
  const value = raw === null || raw === undefined ? null : column.sqlite.mapFromDriverValue(raw);
  return sql.param(value, column.pg);
}

function insertStatement(pair: TablePair, columns: ColumnPair[], rows: Record<string, unknown>[]): SQL {
  const names = sql.join(
    columns.map((column) => sql.identifier(column.pg.name)),
    sql`, `,
  );
  const values = rows.map(
    (row) =>
      sql`(${sql.join(
        columns.map((column) => parameter(row[column.sqlite.name], column)),
        sql`, `,
      )})`,
  );
  return sql`INSERT INTO ${pair.pg} (${names}) VALUES ${sql.join(values, sql`, `)}`;
}

/** The highest id SQLite ever gave in `table`, deleted rows included. */
function highestIdGiven(source: Database.Database, table: string, column: string): number {
  const largest = source.prepare(`SELECT max("${column}") AS id FROM "${table}"`).get() as { id: number | null };
  const hasSequences = source.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'").get() !== undefined;
  const sequence = hasSequences ? (source.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?').get(table) as { seq: number } | undefined) : undefined;
  return Math.max(largest.id ?? 0, sequence?.seq ?? 0);
}

async function tablesWithRows(target: Pick<PgDb, 'execute'>, pairs: TablePair[]): Promise<string[]> {
  const nonEmpty: string[] = [];
  for (const pair of pairs) {
    const result = await target.execute<{ any: boolean }>(sql`SELECT EXISTS (SELECT 1 FROM ${pair.pg}) AS "any"`);
    if (result.rows[0]?.any === true) nonEmpty.push(pair.name);
  }
  return nonEmpty;
}

/**
 * Copies every table of `source` (a SQLite connection on a database migrated to the latest) into `target` (a
 * PostgreSQL database migrated to the latest, with no rows). Throws TargetNotEmpty, or the first error met; the
 * target is then left as it was.
 */
export async function copySqliteToPostgres(source: Database.Database, target: PgDb): Promise<CopiedTable[]> {
  const pairs = inForeignKeyOrder(tablePairs());
  const copied: CopiedTable[] = [];
  source.exec('BEGIN');
  try {
    await target.transaction(async (tx) => {
      // Writers wait until the copy is over (readers do not); a second copy started at once then finds rows.
      await tx.execute(sql`LOCK TABLE ${sql.join(pairs.map((pair) => sql`${pair.pg}`), sql`, `)} IN EXCLUSIVE MODE`);
      const nonEmpty = await tablesWithRows(tx, pairs);
      if (nonEmpty.length > 0) throw new TargetNotEmpty(nonEmpty);
      for (const pair of pairs) await tx.execute(sql`ALTER TABLE ${pair.pg} DISABLE TRIGGER USER`);
      for (const pair of pairs) {
        copied.push({ table: pair.name, rows: await copyTable(source, tx, pair) });
      }
      for (const pair of pairs) await tx.execute(sql`ALTER TABLE ${pair.pg} ENABLE TRIGGER USER`);
    });
  } catch (error) {
    if (error instanceof TargetNotEmpty || error instanceof CopyFailed) throw error;
    // Locking or turning triggers off needs the user that owns the tables (the one the migrations ran as).
    throw new CopyFailed(`could not copy, so nothing was copied: ${postgresReason(error)}`);
  } finally {
    source.exec('COMMIT');
  }
  return copied;
}

/** Copies one table's rows and moves its id sequence on; says which table when PostgreSQL refuses a row. */
async function copyTable(source: Database.Database, tx: Pick<PgDb, 'execute'>, pair: TablePair): Promise<number> {
  try {
    const columns = columnPairs(pair);
    const batchRows = Math.max(1, Math.floor(PARAMETERS_PER_BATCH / columns.length));
    let rows = 0;
    let batch: Record<string, unknown>[] = [];
    for (const row of source.prepare(`SELECT * FROM "${pair.name}"`).iterate() as IterableIterator<Record<string, unknown>>) {
      batch.push(row);
      if (batch.length === batchRows) {
        await tx.execute(insertStatement(pair, columns, batch));
        rows += batch.length;
        batch = [];
      }
    }
    if (batch.length > 0) await tx.execute(insertStatement(pair, columns, batch));
    rows += batch.length;
    for (const { pg: column } of columns.filter((each) => each.pg.generatedIdentity !== undefined)) {
      const next = highestIdGiven(source, pair.name, column.name) + 1;
      await tx.execute(sql`SELECT setval(pg_get_serial_sequence(${`"${pair.name}"`}, ${column.name}), ${next}, false)`);
    }
    return rows;
  } catch (error) {
    throw new CopyFailed(`could not copy the rows of ${pair.name}, so nothing was copied: ${postgresReason(error)}`);
  }
}
