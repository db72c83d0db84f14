import { afterEach, describe, expect, it } from 'vitest';
import { HealthLine } from '../src/janitor/health-line.js';
import type { Actor } from '../src/interaction/conversation.js';
import { createLogger } from '../src/logging/logger.js';
import { EphemeralVault } from '../src/vault/ephemeral-vault.js';
import { startAppHarness } from './support/app-harness.js';
import { FakeClock } from './support/clock.js';

const GUILD = '111111111111111111';
const OTHER_GUILD = '222222222222222222';
const admin: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const bob: Actor = { id: '300000000000000002', displayName: 'bob', isBot: false, isGuildAdmin: false };
const carol: Actor = { id: '300000000000000003', displayName: 'carol', isBot: false, isGuildAdmin: false };

describe('/cloud-vault status and close, for a server’s admins', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup() {
    const harness = await startAppHarness();
    cleanups.push(() => harness.stop());
    const { core } = harness;
    // Bob's project session, an unlinked one of carol's, and one in another server.
    await core.app.jit.grant({ guildId: GUILD, granteeId: bob.id, granteeIsBot: false, grantedBy: admin.id, provider: 'gcp', level: 'deployer', durationMinutes: 60 });
    const init = await harness.say(bob, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, GUILD, {
      modal: { project_id: 'bob-secret-proj-1' },
    });
    expect(init.text()).toMatch(/initialised/);
    harness.clock.advance(10 * 60_000);
    const carols = core.app.vault.open(GUILD, carol.id, { token: 'carol-secret-value' });
    const elsewhere = core.app.vault.open(OTHER_GUILD, carol.id, { token: 'other-guild-secret' });
    return { ...harness, carols, elsewhere };
  }

  it('lists every live session of the server with project, owner, age and time left, never contents', async () => {
    const { say, carols, elsewhere } = await setup();
    const reply = await say(admin, 'cloud-vault', { subcommand: 'status' });
    const shown = reply.text();
    expect(shown).toMatch(/Vault sessions in this server: 2 of 50/);
    expect(shown).toMatch(/web — opened by <@300000000000000002> 10 min(utes)? ago/);
    expect(shown).toContain(`${carols.sessionId}\` — no project — opened by <@${carol.id}>`);
    expect(shown).not.toContain(elsewhere.sessionId);
    for (const secret of ['bob-secret-proj-1', 'carol-secret-value', 'other-guild-secret']) expect(shown).not.toContain(secret);
  });

  it('refuses status to a member who is not an admin, and audits it', async () => {
    const { say, core } = await setup();
    const reply = await say(bob, 'cloud-vault', { subcommand: 'status' });
    expect(reply.text()).toMatch(/cloud-vault status is for server admins/);
    expect((await core.app.audit.recent(GUILD)).map((e) => [e.action, e.outcome])).toContainEqual(['vault.status', 'denied']);
  });

  it('lets an admin close any session of the server, but a member only their own, and no one another server’s', async () => {
    const { say, core, carols, elsewhere } = await setup();
    const byBob = await say(bob, 'cloud-vault', { subcommand: 'close', session: carols.sessionId });
    expect(byBob.text()).toMatch(/No open session with that id/);
    const fromHere = await say(admin, 'cloud-vault', { subcommand: 'close', session: elsewhere.sessionId });
    expect(fromHere.text()).toMatch(/No open session with that id/);
    expect(core.app.vault.list(OTHER_GUILD)).toHaveLength(1);
    const byAdmin = await say(admin, 'cloud-vault', { subcommand: 'close', session: carols.sessionId });
    expect(byAdmin.text()).toMatch(/closed; its secrets are wiped/);
    expect(core.app.vault.list(GUILD).map((s) => s.ownerId)).toEqual([bob.id]);
  });

  it('offers an admin every session of the server to close, a member only their own', async () => {
    const { dispatcher, carols } = await setup();
    const ask = (actor: Actor) =>
      dispatcher.complete({ guildId: GUILD, actor, commandName: 'cloud-vault', focused: { name: 'session', value: '' }, options: { subcommand: 'close' } });
    expect((await ask(admin)).map((c) => c.value)).toContain(carols.sessionId);
    expect(await ask(bob)).toHaveLength(1);
    expect((await ask(bob)).map((c) => c.value)).not.toContain(carols.sessionId);
  });
});

describe('the operator’s health line', () => {
  function capture() {
    const lines: Array<Record<string, unknown>> = [];
    return { lines, logger: createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }) };
  }

  it('counts live vault sessions, servers and runs, at most once per interval, without ids or contents', () => {
    const clock = new FakeClock();
    const vault = new EphemeralVault({ ttlMs: 30 * 60_000, maxSessionsPerGuild: 5, clock });
    vault.open(GUILD, bob.id, { a: 'secret-1' });
    vault.open(GUILD, carol.id, { a: 'secret-2' });
    clock.advance(20 * 60_000);
    vault.open(OTHER_GUILD, carol.id, { a: 'secret-3' });
    const { lines, logger } = capture();
    const health = new HealthLine({ vault, runs: { load: { running: 1, queued: 3 } } }, logger, clock, 5 * 60_000);

    health.maybeReport();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'health', vaultSessions: 3, vaultGuilds: 2, runsRunning: 1, runsQueued: 3 });
    health.maybeReport();
    expect(lines).toHaveLength(1);

    // The first two sessions expire: not counted, even before the janitor purges them.
    clock.advance(11 * 60_000);
    health.maybeReport();
    expect(lines[1]).toMatchObject({ vaultSessions: 1, vaultGuilds: 1 });
    const written = JSON.stringify(lines);
    for (const leak of ['secret-', GUILD, OTHER_GUILD, bob.id]) expect(written).not.toContain(leak);
  });

  it('is written by the janitor’s tick in the running bot', async () => {
    const harness = await startAppHarness();
    try {
      harness.core.app.vault.open(GUILD, bob.id, { a: 'x' });
      await harness.core.janitor.tick();
      const line = harness
        .logs()
        .split('\n')
        .find((l) => l.includes('"msg":"health"'));
      expect(JSON.parse(line!)).toMatchObject({ vaultSessions: 1, vaultGuilds: 1, runsRunning: 0, runsQueued: 0 });
    } finally {
      await harness.stop();
    }
  });
});
