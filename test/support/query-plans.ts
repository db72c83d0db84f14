/**
 * What SQL the bot really issues, and how SQLite plans to run it. `captureStatements` records every statement
 * prepared on any better-sqlite3 connection (drizzle's built queries, the ones prepared once, the raw ones) with the
 * parameters of its last execution, grouped by the step the test says is under way. `planProblems` runs EXPLAIN
 * QUERY PLAN on each and names every statement that reads a table that grows with a guild's data without an index.
 */
import Database from 'better-sqlite3';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { MIGRATIONS_DIR } from '../../src/db/index.js';

/** Tables with a row per project, resource, run, audit entry, grant or credential: a full scan grows with them. */
export const GROWING_TABLES = ['cloud_projects', 'cloud_resources', 'iac_runs', 'audit_log', 'jit_permissions', 'cloud_credentials', 'deploy_approvals', 'jit_requests', 'jit_expiry_reminders'] as const;

export interface ExecutedStatement {
  /** The connection's file (better-sqlite3's `name`): the process lock has a database of its own. */
  database: string;
  sql: string;
  /** The arguments of its last execution, as given to run/get/all/iterate. */
  params: unknown[];
}

export interface StatementCapture {
  /** Statements executed since the step began, by step name, in order of first execution. */
  readonly steps: Map<string, Map<string, ExecutedStatement>>;
  /** Every statement prepared meanwhile, executed or not. */
  readonly prepared: Set<string>;
  /** Names the work that follows; statements executed from now on are filed under it. */
  step(name: string): void;
  /** Every statement executed on `database` in any step (the last parameters seen for each). */
  all(database: string): ExecutedStatement[];
  stop(): void;
}

const EXECUTE = ['run', 'get', 'all', 'iterate'] as const;

/** Wraps Database.prototype.prepare until stop(): only a test does this, the product code never knows. */
export function captureStatements(firstStep = 'start-up'): StatementCapture {
  const original = Database.prototype.prepare;
  const steps = new Map<string, Map<string, ExecutedStatement>>();
  const prepared = new Set<string>();
  let current = new Map<string, ExecutedStatement>();
  steps.set(firstStep, current);
  Database.prototype.prepare = function prepare(this: Database.Database, source: string) {
    const statement = original.call(this, source);
    prepared.add(source);
    for (const method of EXECUTE) {
      const execute = (statement[method] as (...args: unknown[]) => unknown).bind(statement);
      // raw(), pluck() and expand() return the statement itself, so the wrapper also sees drizzle's raw().all().
      Object.defineProperty(statement, method, {
        value: (...params: unknown[]) => {
          current.set(source, { database: this.name, sql: source, params });
          return execute(...params);
        },
      });
    }
    return statement;
  } as typeof original;
  return {
    steps,
    prepared,
    step(name) {
      current = steps.get(name) ?? new Map();
      steps.set(name, current);
    },
    all(database) {
      const bySql = new Map<string, ExecutedStatement>();
      for (const statements of steps.values()) {
        for (const [sql, statement] of statements) if (statement.database === database) bySql.set(sql, statement);
      }
      return [...bySql.values()];
    },
    stop() {
      Database.prototype.prepare = original;
    },
  };
}

/** What the migrations run, once per upgrade: they may read whole tables (a backfill, a rebuild). */
const MIGRATION_STATEMENTS = new Set(readMigrationFiles({ migrationsFolder: MIGRATIONS_DIR }).flatMap((m) => m.sql.map((s) => s.trim())));

/** Statements the bot runs with a query plan: not transaction control, pragmas, schema changes or migrations. */
export function isQuery(sql: string): boolean {
  return /^\s*(select|insert|update|delete|with|replace)\b/i.test(sql) && !MIGRATION_STATEMENTS.has(sql.trim()) && !/__drizzle_migrations/.test(sql);
}

/** EXPLAIN QUERY PLAN's lines for one statement, with the parameters it ran with. */
export function queryPlan(sqlite: Database.Database, statement: ExecutedStatement): string[] {
  const explain = sqlite.prepare(`EXPLAIN QUERY PLAN ${statement.sql}`);
  const rows = explain.all(...(statement.params as unknown[])) as Array<{ detail: string }>;
  return rows.map((row) => row.detail);
}

export interface PlanProblem {
  sql: string;
  plan: string[];
  why: string;
}

const growing = new RegExp(`^(SCAN|SEARCH) (${GROWING_TABLES.join('|')})\\b(.*)$`);

/**
 * What is wrong with each statement's plan: a full scan of a growing table (with or without an index: `SCAN t USING
 * INDEX` still reads every entry), an index SQLite builds for the one query (AUTOMATIC), or, for a statement that
 * ends with a LIMIT, a sort of every matching row before the limit applies (TEMP B-TREE FOR ORDER BY).
 *
 * Not a problem: in an INSERT, a scan of another table that references the one inserted into. That is SQLite's
 * foreign-key bookkeeping, which runs only while a deferred constraint is violated (never here: every foreign key
 * is checked at once), so it shows in the plan but is skipped at run time.
 */
export function planProblems(sqlite: Database.Database, statements: readonly ExecutedStatement[]): PlanProblem[] {
  const problems: PlanProblem[] = [];
  for (const statement of statements.filter((s) => isQuery(s.sql))) {
    const plan = queryPlan(sqlite, statement);
    const named = (table: string) => new RegExp(`["\`\\s.]${table}["\`\\s.]`).test(` ${statement.sql} `);
    const insert = /^\s*insert\b/i.test(statement.sql);
    const limited = GROWING_TABLES.some(named) && /\blimit\s+(\?|\d+|@\w+)\s*(offset\s+(\?|\d+|@\w+)\s*)?;?\s*$/i.test(statement.sql);
    for (const line of plan) {
      const match = growing.exec(line);
      const table = match?.[2] ?? '';
      if (match?.[1] === 'SCAN' && !(insert && !named(table))) problems.push({ sql: statement.sql, plan, why: `reads all of ${table} (${line})` });
      if (match && /AUTOMATIC/.test(match[3] ?? '')) problems.push({ sql: statement.sql, plan, why: `builds a throwaway index on ${table} (${line})` });
      if (limited && /USE TEMP B-TREE FOR (ORDER BY|RIGHT PART OF ORDER BY|LAST TERM OF ORDER BY)/.test(line)) {
        problems.push({ sql: statement.sql, plan, why: `sorts every matching row before the LIMIT (${line})` });
      }
    }
  }
  return problems;
}

/** One line per problem, for a failure message a reader can act on. */
export function describeProblems(problems: readonly PlanProblem[]): string {
  return problems.map((p) => `- ${p.why}\n    ${p.sql}\n    plan: ${p.plan.join(' | ')}`).join('\n');
}
