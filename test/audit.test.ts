import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog, SYSTEM_USER, sanitiseDetails } from '../src/audit/audit-log.js';
import { sqliteDataAccess } from '../src/db/data-access.js';
import { openDatabase } from '../src/db/index.js';
import { describeOnBothDialects, type DialectUnderTest } from './support/dialects.js';
import { FakeClock } from './support/clock.js';
import { makeTestDatabase } from './support/tmp.js';

const GUILD_A = '111111111111111111';
const GUILD_B = '222222222222222222';
const ALICE = '333333333333333333';
const BOB = '444444444444444444';

describeOnBothDialects('audit log', (open) => {
  async function makeLog() {
    const u = await open();
    const clock = new FakeClock();
    return { log: new AuditLog(u.data.session, clock), clock, u };
  }
  const stored = async (u: DialectUnderTest) => (await u.rows('SELECT action FROM audit_log ORDER BY id')).map((row) => row['action']);

  it('returns a guild\'s entries newest first with who, what, target, outcome and time', async () => {
    const { log, clock } = await makeLog();
    log.record({ guildId: GUILD_A, userId: ALICE, action: 'project.create', target: 'web', outcome: 'success' });
    clock.advance(1000);
    log.record({ guildId: GUILD_A, userId: BOB, action: 'deploy.apply', target: 'web', outcome: 'denied', details: { rule: 'budget' } });
    const entries = (await log.recent(GUILD_A));
    expect(entries.map((e) => e.action)).toEqual(['deploy.apply', 'project.create']);
    expect(entries[0]).toMatchObject({
      guildId: GUILD_A,
      userId: BOB,
      target: 'web',
      outcome: 'denied',
      details: { rule: 'budget' },
      createdAt: clock.now(),
    });
    expect(entries[1]!.details).toBeNull();
  });

  it('records a batch in one go with the same checks, and nothing at all if one entry is bad', async () => {
    const { log } = await makeLog();
    const batch = Array.from({ length: 1200 }, (_, i) => ({
      guildId: i % 2 ? GUILD_A : GUILD_B,
      userId: 'system',
      action: 'jit.expire',
      target: String(i),
      outcome: 'success' as const,
      details: { level: 'viewer', token: 'must-not-be-stored' },
    }));
    await log.recordMany(batch);
    const entries = (await log.recent(GUILD_A, { limit: 200 }));
    expect(entries).toHaveLength(200);
    expect(entries.every((e) => e.guildId === GUILD_A && e.details?.level === 'viewer' && !('token' in (e.details ?? {})))).toBe(true);
    await expect(log.recordMany([{ guildId: GUILD_A, userId: ALICE, action: 'ok.one', outcome: 'success' }, { guildId: 'nope', userId: ALICE, action: 'bad', outcome: 'success' }])).rejects.toThrow(/guildId must be a Discord id/);
    expect((await log.recent(GUILD_A, { action: 'ok.one' }))).toEqual([]);
  });

  it('entries recorded outside a transaction are written within milliseconds; a read or flush writes them first', async () => {
    const { log, u } = await makeLog();
    log.record({ guildId: GUILD_A, userId: ALICE, action: 'command.cloud-audit', outcome: 'denied' });
    // Another AuditLog on the same connection or pool reads them too.
    expect((await new AuditLog(u.data.session).recent(GUILD_A)).map((e) => e.action)).toEqual(['command.cloud-audit']);
    log.record({ guildId: GUILD_A, userId: ALICE, action: 'deploy.plan', outcome: 'denied' });
    await log.flush();
    expect(await stored(u)).toEqual(['command.cloud-audit', 'deploy.plan']);
    // Another process sees what was flushed; never another guild's entries.
    const other = new AuditLog((await u.another()).session);
    expect((await other.recent(GUILD_A)).map((e) => e.action)).toEqual(['deploy.plan', 'command.cloud-audit']);
    expect(await other.recent(GUILD_B)).toEqual([]);
  });

  it('a malformed entry is refused at once, not when the batch is written', async () => {
    const { log, u } = await makeLog();
    expect(() => log.record({ guildId: GUILD_A, userId: 'nobody', action: 'x.y', outcome: 'success' })).toThrow();
    await log.flush();
    expect(await stored(u)).toEqual([]);
  });

  it('many entries at once are written in one go, in the order they were recorded', async () => {
    const { log, u } = await makeLog();
    for (let i = 0; i < 600; i += 1) log.record({ guildId: GUILD_A, userId: ALICE, action: `step.${i}`, outcome: 'success' });
    await log.flush();
    expect(await stored(u)).toEqual(Array.from({ length: 600 }, (_, i) => `step.${i}`));
  });

  it('orders entries recorded in the same millisecond by insertion', async () => {
    const { log } = await makeLog();
    for (let i = 0; i < 3; i += 1) log.record({ guildId: GUILD_A, userId: ALICE, action: `step.${i}`, outcome: 'success' });
    expect((await log.recent(GUILD_A)).map((e) => e.action)).toEqual(['step.2', 'step.1', 'step.0']);
  });

  it('never shows one guild another guild\'s entries, whatever the filters', async () => {
    const { log } = await makeLog();
    log.record({ guildId: GUILD_A, userId: ALICE, action: 'project.create', outcome: 'success' });
    log.record({ guildId: GUILD_B, userId: ALICE, action: 'project.create', outcome: 'success' });
    expect((await log.recent(GUILD_B))).toHaveLength(1);
    expect((await log.recent(GUILD_B, { userId: ALICE, action: 'project.create' })).map((e) => e.guildId)).toEqual([GUILD_B]);
    expect((await log.recent('222222222222222223'))).toEqual([]);
  });

  it('filters by user and action and bounds the limit', async () => {
    const { log } = await makeLog();
    for (let i = 0; i < 30; i += 1) {
      log.record({ guildId: GUILD_A, userId: i % 2 ? ALICE : BOB, action: i % 3 ? 'a.x' : 'a.y', outcome: 'success' });
    }
    expect((await log.recent(GUILD_A))).toHaveLength(20);
    expect((await log.recent(GUILD_A, { limit: 5 }))).toHaveLength(5);
    expect((await log.recent(GUILD_A, { limit: 0 }))).toHaveLength(1);
    expect((await log.recent(GUILD_A, { limit: 10_000 }))).toHaveLength(30);
    expect((await log.recent(GUILD_A, { userId: ALICE, limit: 100 }))).toHaveLength(15);
    expect((await log.recent(GUILD_A, { userId: ALICE, action: 'a.y', limit: 100 }))).toHaveLength(5);
  });

  it('filters by the janitor ("system") too, though the index for members leaves its entries out', async () => {
    const { log } = await makeLog();
    await log.recordMany([1, 2, 3].map((n) => ({ guildId: GUILD_A, userId: SYSTEM_USER, action: 'jit.expire', target: `#${n}`, outcome: 'success' as const })));
    log.record({ guildId: GUILD_A, userId: ALICE, action: 'jit.expire', target: '#4', outcome: 'success' });
    expect((await log.recent(GUILD_A, { userId: SYSTEM_USER })).map((e) => e.target)).toEqual(['#3', '#2', '#1']);
    expect((await log.recent(GUILD_A, { userId: ALICE })).map((e) => e.target)).toEqual(['#4']);
    expect((await log.recent(GUILD_A, { action: 'jit.expire' }))).toHaveLength(4);
  });

  it('drops secret-looking details at any depth before they reach the database', async () => {
    const { log, u } = await makeLog();
    log.record({
      guildId: GUILD_A,
      userId: ALICE,
      action: 'credentials.add',
      outcome: 'success',
      details: {
        name: 'prod',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG',
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        nested: { password: 'hunter2', apiToken: 'tok', author: ALICE, list: [{ privateKey: 'pk' }] },
        credentials_json: '{"type":"service_account"}',
        credentialName: 'prod-gcp',
      },
    });
    await log.flush();
    const [raw] = (await u.rows('SELECT details FROM audit_log')) as Array<{ details: string }>;
    for (const secret of ['wJalrXUtnFEMI', 'AKIAIOSFODNN7EXAMPLE', 'hunter2', 'tok"', 'service_account', '"pk"']) {
      expect(raw?.details).not.toContain(secret);
    }
    expect((await log.recent(GUILD_A))[0]!.details).toEqual({ name: 'prod', nested: { author: ALICE, list: [{}] }, credentialName: 'prod-gcp' });
  });

  it('bounds long strings and oversized details', async () => {
    expect(sanitiseDetails({ s: 'x'.repeat(600) }).s).toHaveLength(501);
    const { log } = await makeLog();
    log.record({
      guildId: GUILD_A,
      userId: ALICE,
      action: 'big',
      outcome: 'success',
      details: { items: Array.from({ length: 50 }, () => 'y'.repeat(400)) },
    });
    expect((await log.recent(GUILD_A))[0]!.details).toMatchObject({ truncated: true });
  });

  it('refuses malformed guild ids, user ids, actions and outcomes', async () => {
    const { log } = await makeLog();
    expect(() => log.record({ guildId: 'x', userId: ALICE, action: 'a', outcome: 'success' })).toThrow(/guildId must be a Discord id/);
    expect(() => log.record({ guildId: GUILD_A, userId: 'eve', action: 'a', outcome: 'success' })).toThrow(/"userId"/);
    expect(() => log.record({ guildId: GUILD_A, userId: ALICE, action: 'drop table;', outcome: 'success' })).toThrow(/an action name such as project.create/);
    expect(() => log.record({ guildId: GUILD_A, userId: ALICE, action: 'a', outcome: 'maybe' as 'success' })).toThrow(/"outcome"/);
    await expect(log.recent('../x')).rejects.toThrow(/guildId must be a Discord id/);
    log.record({ guildId: GUILD_A, userId: 'system', action: 'jit.expire', outcome: 'success' });
    expect((await log.recent(GUILD_A))).toHaveLength(1);
  });
});

describe('audit log on SQLite: entries and the shared connection', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

  function makeLog() {
    const database = makeTestDatabase();
    cleanups.push(database.cleanup);
    const clock = new FakeClock();
    return { log: new AuditLog(sqliteDataAccess(database).session, clock), clock, database };
  }
  const stored = (database: ReturnType<typeof makeLog>['database']) =>
    (database.sqlite.prepare('SELECT action FROM audit_log ORDER BY id').all() as Array<{ action: string }>).map((row) => row.action);

  it('inside a transaction an entry is part of it: rolled back with it, or there as soon as it commits', () => {
    const { log, database } = makeLog();
    expect(() =>
      database.sqlite.transaction(() => {
        log.record({ guildId: GUILD_A, userId: ALICE, action: 'jit.grant', outcome: 'success' });
        throw new Error('the grant failed');
      })(),
    ).toThrow('the grant failed');
    database.sqlite.transaction(() => log.record({ guildId: GUILD_A, userId: ALICE, action: 'jit.revoke', outcome: 'success' }))();
    expect(stored(database)).toEqual(['jit.revoke']);
  });

  it('a read inside a transaction leaves waiting entries out of it, so its rollback cannot take them', async () => {
    const { log, database } = makeLog();
    log.record({ guildId: GUILD_A, userId: ALICE, action: 'command.cloud-audit', outcome: 'denied' });
    expect(() =>
      database.sqlite.transaction(() => {
        // Its synchronous part runs here, inside the transaction: it must not write the waiting entry into it.
        void log.recent(GUILD_A);
        throw new Error('rolled back');
      })(),
    ).toThrow('rolled back');
    expect((await log.recent(GUILD_A)).map((e) => e.action)).toEqual(['command.cloud-audit']);
  });

  it.each(['exit', 'end'])('a process that records and leaves at once (%s) has written them all', async (how) => {
    const { database } = makeLog();
    await execa('node', ['--import', 'tsx', 'test/support/audit-then-exit.ts', database.path, '300', how]);
    const reopened = openDatabase(database.path);
    try {
      expect(reopened.sqlite.prepare('SELECT count(*) AS n FROM audit_log').get()).toEqual({ n: 300 });
    } finally {
      reopened.close();
    }
  });
});
