/**
 * Two janitors, two processes as far as PostgreSQL can tell (a pool each), racing over the same expired grants
 * (issue 16): each grant is revoked, audited and told to its member exactly once, whoever gets to it.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import { postgresDataAccess } from '../src/db/data-access.js';
import { openPostgres, type PostgresHandle } from '../src/db/postgres.js';
import { JitExpiryJob, type ExpiryCounts } from '../src/janitor/jit-expiry-job.js';
import { grantRepositoryFor } from '../src/jit/grant-repository.js';
import type { Notice } from '../src/notify/notifier.js';
import { describeWithPostgres } from './support/postgres-server.js';
import { RecordingNotifier } from './support/recording-notifier.js';

const GUILD = '111111111111111111';
const NOW = 1_780_000_000_000;
const GRANTS = 400;

/** A notifier whose every DM takes a turn of the event loop, as a network round trip would, so the janitors interleave. */
class RoundTripNotifier extends RecordingNotifier {
  override async sendDirect(userId: string, notice: Notice): Promise<void> {
    await yieldToEventLoop();
    await super.sendDirect(userId, notice);
  }
}

describeWithPostgres('two janitors on one PostgreSQL database', (server) => {
  const handles: PostgresHandle[] = [];
  afterEach(async () => {
    for (const handle of handles.splice(0)) await handle.close();
  });

  async function janitor(url: string) {
    const handle = await openPostgres(url);
    handles.push(handle);
    const notifier = new RoundTripNotifier({ [GUILD]: 'ACME Corp' });
    const job = new JitExpiryJob({
      grants: grantRepositoryFor(postgresDataAccess(handle).session),
      clock: { now: () => NOW },
      notifier,
      policies: { get: () => ({ maxJitMinutes: 480 }) },
      // Small batches, so that both are revoking at the same time for a while.
      revokeBatchSize: 10,
      noticeBatchSize: 25,
    });
    return { handle, notifier, job };
  }

  it('revoke, audit and notice each expired grant exactly once between them', async () => {
    const url = await server().createDatabase();
    const a = await janitor(url);
    const b = await janitor(url);
    await a.handle.pool.query(
      `INSERT INTO jit_permissions (user_id, guild_id, provider, permission_level, granted_at, expires_at, granted_by)
       SELECT (333333333333333333 + g)::text, $1, 'aws', 'viewer', $2::bigint - 3600000, $2::bigint - g, '222222222222222222'
         FROM generate_series(1, ${GRANTS}) AS g`,
      [GUILD, NOW],
    );

    const ticks: ExpiryCounts[] = [];
    for (let tick = 0; tick < 2; tick += 1) ticks.push(...(await Promise.all([a.job.run(), b.job.run()])));

    const total = (key: keyof ExpiryCounts) => ticks.reduce((sum, counts) => sum + (counts[key] ?? 0), 0);
    expect(total('expired')).toBe(GRANTS);
    expect(total('noticesSent')).toBe(GRANTS);

    const dms = [...a.notifier.sent, ...b.notifier.sent].map((sent) => ('user' in sent.to ? sent.to.user : undefined));
    expect(dms).toHaveLength(GRANTS);
    expect(new Set(dms).size).toBe(GRANTS);

    const { rows } = await a.handle.pool.query<{ entries: number; grants: number }>(
      `SELECT count(*)::int AS entries, count(DISTINCT (details::json ->> 'grantId'))::int AS grants FROM audit_log WHERE action = 'jit.expire'`,
    );
    expect(rows[0]).toEqual({ entries: GRANTS, grants: GRANTS });
    const left = await a.handle.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jit_permissions WHERE revoked = false OR notice_status <> 'sent'`);
    expect(left.rows[0]?.n).toBe(0);
  }, 60_000);
});
