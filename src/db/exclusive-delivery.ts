/**
 * One outbox sweep at a time per shard, across processes: the janitor's deliveries (reminders, expiry notices,
 * approval notices) read their pending rows and mark each one once it went out, so two processes sweeping the same
 * rows at once would both send them. On PostgreSQL any number of processes may run the janitor on one database, so
 * the sweep runs under a session advisory lock (postgresExclusively: it holds a connection, never a transaction,
 * across the calls to Discord); another process finding it taken sends nothing this tick, and the next sweep reads
 * the rows fresh, marked. On SQLite the process lock allows one process per file (or per shard, whose statements
 * see only its guilds), so it is always this one's turn. The JIT grants and requests do the same in their own
 * repositories (pg-grant-repository.ts, pg-request-repository.ts).
 */
import type { ShardScope } from '../sharding/shard-scope.js';
import { postgresExclusively, type Session } from './data-access.js';

/** Advisory-lock classes (the lock's first key) of the outboxes that use deliveringExclusively, one each. */
export const DELIVERY_LOCKS = {
  /** "ttln": the "expired and destroyed" notices of deployments with a time to live. */
  ttlNotices: 0x74_74_6c_6e,
  /** "ttlr": the reminders before a deployment's time to live ends. */
  ttlReminders: 0x74_74_6c_72,
  /** "jitm": the reminders before a JIT grant ends. */
  jitReminders: 0x6a_69_74_6d,
  /** "dapr": the deployment approvals' requester notices and card edits. */
  deployApprovals: 0x64_61_70_72,
} as const;

/**
 * Runs `work` unless another process runs the same outbox's sweep for this shard right now; undefined when one does.
 * `shard`: the sweep's shard (none: the whole bot), the lock's second key.
 */
export function deliveringExclusively<T>(session: Session, lock: number, shard: ShardScope | undefined, work: () => Promise<T>): Promise<T | undefined> {
  if (session.dialect === 'sqlite') return work();
  return postgresExclusively(session.pool, [lock, shard?.id ?? 0], work);
}
