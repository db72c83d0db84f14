import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog, SYSTEM_USER, sanitiseDetails } from '../src/audit/audit-log.js';
import { openDatabase } from '../src/db/index.js';
import { FakeClock } from './support/clock.js';
import { makeTestDatabase } from './support/tmp.js';

const GUILD_A = '111111111111111111';
const GUILD_B = '222222222222222222';
const ALICE = '333333333333333333';
const BOB = '444444444444444444';

describe('audit log', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

  function makeLog() {
    const database = makeTestDatabase();
    cleanups.push(database.cleanup);
    const clock = new FakeClock();
    return { log: new AuditLog(database.db, clock), clock, database };
  }

  it('returns a guild\'s entries newest first with who, what, target, outcome and time', () => {
    const { log, clock } = makeLog();
    log.record({ guildId: GUILD_A, userId: ALICE, action: 'project.create', target: 'web', outcome: 'success' });
    clock.advance(1000);
    log.record({ guildId: GUILD_A, userId: BOB, action: 'deploy.apply', target: 'web', outcome: 'denied', details: { rule: 'budget' } });
    const entries = log.recent(GUILD_A);
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

  it('records a batch in one go with the same checks, and nothing at all if one entry is bad', () => {
    const { log } = makeLog();
    const batch = Array.from({ length: 1200 }, (_, i) => ({
      guildId: i % 2 ? GUILD_A : GUILD_B,
      userId: 'system',
      action: 'jit.expire',
      target: String(i),
      outcome: 'success' as const,
      details: { level: 'viewer', token: 'must-not-be-stored' },
    }));
    log.recordMany(batch);
    const entries = log.recent(GUILD_A, { limit: 200 });
    expect(entries).toHaveLength(200);
    expect(entries.every((e) => e.guildId === GUILD_A && e.details?.level === 'viewer' && !('token' in (e.details ?? {})))).toBe(true);
    expect(() => log.recordMany([{ guildId: GUILD_A, userId: ALICE, action: 'ok.one', outcome: 'success' }, { guildId: 'nope', userId: ALICE, action: 'bad', outcome: 'success' }])).toThrow(/guildId must be a Discord id/);
    expect(log.recent(GUILD_A, { action: 'ok.one' })).toEqual([]);
  });

  describe('entries recorded outside a transaction are written together, a few milliseconds later', () => {
    const stored = (database: ReturnType<typeof makeLog>['database']) =>
      (database.sqlite.prepare('SELECT action FROM audit_log ORDER BY id').all() as Array<{ action: string }>).map((row) => row.action);

    it('every read sees them, through any AuditLog on the connection, and flush writes them', () => {
      const { log, database } = makeLog();
      log.record({ guildId: GUILD_A, userId: ALICE, action: 'command.cloud-audit', outcome: 'denied' });
      expect(new AuditLog(database.db).recent(GUILD_A).map((e) => e.action)).toEqual(['command.cloud-audit']);
      log.record({ guildId: GUILD_A, userId: ALICE, action: 'deploy.plan', outcome: 'denied' });
      log.flush();
      expect(stored(database)).toEqual(['command.cloud-audit', 'deploy.plan']);
    });

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

    it('a read inside a transaction leaves waiting entries out of it, so its rollback cannot take them', () => {
      const { log, database } = makeLog();
      log.record({ guildId: GUILD_A, userId: ALICE, action: 'command.cloud-audit', outcome: 'denied' });
      expect(() =>
        database.sqlite.transaction(() => {
          log.recent(GUILD_A);
          throw new Error('rolled back');
        })(),
      ).toThrow('rolled back');
      expect(log.recent(GUILD_A).map((e) => e.action)).toEqual(['command.cloud-audit']);
    });

    it('a malformed entry is refused at once, not when the batch is written', () => {
      const { log, database } = makeLog();
      expect(() => log.record({ guildId: GUILD_A, userId: 'nobody', action: 'x.y', outcome: 'success' })).toThrow();
      log.flush();
      expect(stored(database)).toEqual([]);
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

  it('orders entries recorded in the same millisecond by insertion', () => {
    const { log } = makeLog();
    for (let i = 0; i < 3; i += 1) log.record({ guildId: GUILD_A, userId: ALICE, action: `step.${i}`, outcome: 'success' });
    expect(log.recent(GUILD_A).map((e) => e.action)).toEqual(['step.2', 'step.1', 'step.0']);
  });

  it('never shows one guild another guild\'s entries, whatever the filters', () => {
    const { log } = makeLog();
    log.record({ guildId: GUILD_A, userId: ALICE, action: 'project.create', outcome: 'success' });
    log.record({ guildId: GUILD_B, userId: ALICE, action: 'project.create', outcome: 'success' });
    expect(log.recent(GUILD_B)).toHaveLength(1);
    expect(log.recent(GUILD_B, { userId: ALICE, action: 'project.create' }).map((e) => e.guildId)).toEqual([GUILD_B]);
    expect(log.recent('222222222222222223')).toEqual([]);
  });

  it('filters by user and action and bounds the limit', () => {
    const { log } = makeLog();
    for (let i = 0; i < 30; i += 1) {
      log.record({ guildId: GUILD_A, userId: i % 2 ? ALICE : BOB, action: i % 3 ? 'a.x' : 'a.y', outcome: 'success' });
    }
    expect(log.recent(GUILD_A)).toHaveLength(20);
    expect(log.recent(GUILD_A, { limit: 5 })).toHaveLength(5);
    expect(log.recent(GUILD_A, { limit: 0 })).toHaveLength(1);
    expect(log.recent(GUILD_A, { limit: 10_000 })).toHaveLength(30);
    expect(log.recent(GUILD_A, { userId: ALICE, limit: 100 })).toHaveLength(15);
    expect(log.recent(GUILD_A, { userId: ALICE, action: 'a.y', limit: 100 })).toHaveLength(5);
  });

  it('filters by the janitor ("system") too, though the index for members leaves its entries out', () => {
    const { log } = makeLog();
    log.recordMany([1, 2, 3].map((n) => ({ guildId: GUILD_A, userId: SYSTEM_USER, action: 'jit.expire', target: `#${n}`, outcome: 'success' as const })));
    log.record({ guildId: GUILD_A, userId: ALICE, action: 'jit.expire', target: '#4', outcome: 'success' });
    expect(log.recent(GUILD_A, { userId: SYSTEM_USER }).map((e) => e.target)).toEqual(['#3', '#2', '#1']);
    expect(log.recent(GUILD_A, { userId: ALICE }).map((e) => e.target)).toEqual(['#4']);
    expect(log.recent(GUILD_A, { action: 'jit.expire' })).toHaveLength(4);
  });

  it('drops secret-looking details at any depth before they reach the database', () => {
    const { log, database } = makeLog();
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
    log.flush();
    const raw = database.sqlite.prepare('SELECT details FROM audit_log').get() as { details: string };
    for (const secret of ['wJalrXUtnFEMI', 'AKIAIOSFODNN7EXAMPLE', 'hunter2', 'tok"', 'service_account', '"pk"']) {
      expect(raw.details).not.toContain(secret);
    }
    expect(log.recent(GUILD_A)[0]!.details).toEqual({ name: 'prod', nested: { author: ALICE, list: [{}] }, credentialName: 'prod-gcp' });
  });

  it('bounds long strings and oversized details', () => {
    expect(sanitiseDetails({ s: 'x'.repeat(600) }).s).toHaveLength(501);
    const { log } = makeLog();
    log.record({
      guildId: GUILD_A,
      userId: ALICE,
      action: 'big',
      outcome: 'success',
      details: { items: Array.from({ length: 50 }, () => 'y'.repeat(400)) },
    });
    expect(log.recent(GUILD_A)[0]!.details).toMatchObject({ truncated: true });
  });

  it('refuses malformed guild ids, user ids, actions and outcomes', () => {
    const { log } = makeLog();
    expect(() => log.record({ guildId: 'x', userId: ALICE, action: 'a', outcome: 'success' })).toThrow(/guildId must be a Discord id/);
    expect(() => log.record({ guildId: GUILD_A, userId: 'eve', action: 'a', outcome: 'success' })).toThrow(/"userId"/);
    expect(() => log.record({ guildId: GUILD_A, userId: ALICE, action: 'drop table;', outcome: 'success' })).toThrow(/an action name such as project.create/);
    expect(() => log.record({ guildId: GUILD_A, userId: ALICE, action: 'a', outcome: 'maybe' as 'success' })).toThrow(/"outcome"/);
    expect(() => log.recent('../x')).toThrow(/guildId must be a Discord id/);
    log.record({ guildId: GUILD_A, userId: 'system', action: 'jit.expire', outcome: 'success' });
    expect(log.recent(GUILD_A)).toHaveLength(1);
  });
});
