/** What /cloud-audit shows: who acted (a member, or the bot's scheduled work) and on whom or what. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_USER } from '../src/audit/audit-log.js';
import type { Actor } from '../src/interaction/conversation.js';
import { startAppHarness, HARNESS_GUILD } from './support/app-harness.js';

const admin: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const bob: Actor = { id: '300000000000000002', displayName: 'bob', isBot: false, isGuildAdmin: false };

describe('/cloud-audit', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;
  beforeAll(async () => {
    harness = await startAppHarness();
  });
  afterAll(() => harness?.stop());

  it('shows an entry of the bot’s scheduled work as the bot, never as a mention of "system"', async () => {
    harness.core.app.audit.record({ guildId: HARNESS_GUILD, userId: SYSTEM_USER, action: 'jit.expire', target: bob.id, outcome: 'success' });
    const shown = (await harness.say(admin, 'cloud-audit', { action: 'jit.expire' })).text();
    expect(shown).toContain('the bot (scheduled)');
    expect(shown).not.toContain('<@system>');
    expect(shown).toContain(`→ <@${bob.id}>`);
  });

  it('shows the member a JIT grant or revocation was about, not their raw id', async () => {
    await harness.say(admin, 'cloud-jit-grant', { user: { id: bob.id, displayName: 'bob', isBot: false }, provider: 'gcp', level: 'viewer', duration: 30 });
    await harness.say(admin, 'cloud-jit-revoke', { user: { id: bob.id, displayName: 'bob', isBot: false } });
    for (const action of ['jit.grant', 'jit.revoke']) {
      const shown = (await harness.say(admin, 'cloud-audit', { action })).text();
      expect(shown).toContain(`<@${admin.id}> \`${action}\` → <@${bob.id}>`);
      expect(shown).not.toContain(`→ ${bob.id}`);
    }
  });

  it('shows a project target as the name typed, escaped', async () => {
    harness.core.app.audit.record({ guildId: HARNESS_GUILD, userId: admin.id, action: 'project.create', target: 'my_*demo*', outcome: 'success' });
    const shown = (await harness.say(admin, 'cloud-audit', { action: 'project.create' })).text();
    expect(shown).toContain('→ my\\\\_\\\\*demo\\\\*');
  });
});
