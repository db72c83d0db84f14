/**
 * The unit of work both dialects implement (src/db/data-access.ts): all or nothing, one at a time on SQLite's shared
 * connection, never across I/O there, and a nested one joins its outer one.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import { sqliteDataAccess, UnitOfWorkAwaitedIo, type DataAccess } from '../src/db/data-access.js';
import { grantRepositoryFor, type NewGrant } from '../src/jit/grant-repository.js';
import { describeOnBothDialects } from './support/dialects.js';
import { makeTestDatabase } from './support/tmp.js';

const GUILD = '111111111111111111';
const NOW = 1_780_000_000_000;
const grant = (userId: string): NewGrant => ({
  guildId: GUILD,
  userId,
  provider: 'aws',
  level: 'viewer',
  reason: null,
  grantedAt: NOW,
  expiresAt: NOW + 60_000,
  grantedBy: '222222222222222222',
});
const users = async (data: DataAccess) => (await grantRepositoryFor(data.session).listActive(GUILD, NOW)).map((g) => g.userId).sort();

describeOnBothDialects('a unit of work', (open) => {
  it('commits what it wrote when it resolves, and keeps nothing of it when it throws', async () => {
    const { data } = await open();
    await data.transaction(async (session) => {
      await grantRepositoryFor(session).insert(grant('333333333333333333'));
    });
    const failure = data.transaction(async (session) => {
      await grantRepositoryFor(session).insert(grant('444444444444444444'));
      throw new Error('changed its mind');
    });
    await expect(failure).rejects.toThrow('changed its mind');
    expect(await users(data)).toEqual(['333333333333333333']);
  });

  it('runs two at once without either seeing or undoing the other’s writes', async () => {
    const { data } = await open();
    const seen: Record<'first' | 'second', string[]> = { first: [], second: [] };
    const first = data.transaction(async (session) => {
      const grants = grantRepositoryFor(session);
      await grants.insert(grant('333333333333333333'));
      seen.first = (await grants.listActive(GUILD, NOW)).map((g) => g.userId);
      throw new Error('rolled back');
    });
    const second = data.transaction(async (session) => {
      const grants = grantRepositoryFor(session);
      await grants.insert(grant('444444444444444444'));
      seen.second = (await grants.listActive(GUILD, NOW)).map((g) => g.userId);
    });
    await expect(first).rejects.toThrow('rolled back');
    await second;
    // The second never sees the first's write, which was never committed. The first sees its own, and the second's
    // only if that was committed before it looked (PostgreSQL reads what is committed when each statement starts).
    expect(seen.second).toEqual(['444444444444444444']);
    expect(seen.first).toContain('333333333333333333');
    expect(seen.first.every((id) => id === '333333333333333333' || id === '444444444444444444')).toBe(true);
    expect(await users(data)).toEqual(['444444444444444444']);
  });

  it('joins the unit of work it is started in, rather than waiting for it', async () => {
    const { data } = await open();
    const inner = data.transaction(async () =>
      data.transaction(async (session) => {
        await grantRepositoryFor(session).insert(grant('333333333333333333'));
        throw new Error('inner failed');
      }),
    );
    await expect(inner).rejects.toThrow('inner failed');
    expect(await users(data)).toEqual([]);
  });
});

describe('a SQLite unit of work', () => {
  it('is rolled back, and says why, when it awaits real I/O inside', async () => {
    const database = makeTestDatabase();
    onTestFinished(database.cleanup);
    const data = sqliteDataAccess(database);
    const holding = data.transaction(async (session) => {
      await grantRepositoryFor(session).insert(grant('333333333333333333'));
      await sleep(1);
    });
    await expect(holding).rejects.toBeInstanceOf(UnitOfWorkAwaitedIo);
    expect(await users(data)).toEqual([]);
    // The connection is usable afterwards: nothing was left open.
    await data.transaction(async (session) => void (await grantRepositoryFor(session).insert(grant('444444444444444444'))));
    expect(await users(data)).toEqual(['444444444444444444']);
  });
});
