/**
 * One guild's unit of work at a time, for a read-then-write whose check must see the last one's write (a budget
 * reservation re-checks the policy against committed totals plus holds, then holds; a policy update merges into
 * what the guild set). SQLite needs nothing: a unit of work is BEGIN IMMEDIATE, which holds the database's write lock
 * from its start. PostgreSQL isolates transactions per statement (READ COMMITTED), so there the transaction takes a
 * transaction-level advisory lock on the guild, released by its commit or rollback; the next one waits for it, then
 * reads what it committed.
 */
import { sql } from 'drizzle-orm';
import type { Session } from './data-access.js';

/**
 * Which kind of work is serialised (the lock key's first half): different kinds on one guild do not wait for one
 * another. Four ASCII letters each, as the bot's other advisory locks.
 */
export const GUILD_LOCKS = {
  budget: 0x62_64_67_74, // "bdgt"
  policy: 0x70_6c_63_79, // "plcy"
} as const;

/** A guild id as the lock key's second half: its snowflake folded to 32 bits (two guilds sharing one only wait). */
export function guildLockKey(guildId: string): number {
  const id = BigInt(guildId);
  return Number(BigInt.asIntN(32, id ^ (id >> 32n)));
}

/** Call first inside the unit of work (`session` must be its own): the rest of it runs alone for this guild. */
export async function serialiseGuild(session: Session, kind: keyof typeof GUILD_LOCKS, guildId: string): Promise<void> {
  if (session.dialect === 'sqlite') return;
  await session.db.execute(sql`SELECT pg_advisory_xact_lock(${GUILD_LOCKS[kind]}::int, ${guildLockKey(guildId)}::int)`);
}
