/**
 * /cloud-guild-policy never accepts something silently: a notification channel the guild does not have is refused
 * (checked through the front end, which knows the guild's channels), and options typed with action:view are named
 * as ignored.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';

const admin: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const OTHER_GUILD = '222222222222222222';
const NOTICES = '500000000000000001';
const GONE = '500000000000000002';
const FOREIGN = '500000000000000003';

describe('/cloud-guild-policy refuses or says what it did not do', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;
  beforeEach(async () => {
    harness = await startAppHarness();
    harness.notifier.removeChannel(GONE).removeChannel(FOREIGN, HARNESS_GUILD);
  });
  afterEach(() => harness?.stop());

  it('refuses a notification channel that does not exist in this server, and changes nothing', async () => {
    for (const missing of [GONE, FOREIGN]) {
      const reply = await harness.say(admin, 'cloud-guild-policy', { action: 'update', notification_channel: missing, max_budget: 50 });
      expect(reply.text()).toContain(`<#${missing}> is not a text channel of this server that the bot can see`);
      expect(reply.text()).toContain('Nothing was changed');
    }
    expect((await harness.core.app.policies.get(HARNESS_GUILD))).toMatchObject({ notificationChannelId: null, maxBudgetMonthly: 1000 });
    // The same channel id exists in the other guild: there it is accepted.
    const elsewhere = await harness.say(admin, 'cloud-guild-policy', { action: 'update', notification_channel: FOREIGN }, OTHER_GUILD);
    expect(elsewhere.text()).toContain('Guild policies updated');
    const accepted = await harness.say(admin, 'cloud-guild-policy', { action: 'update', notification_channel: NOTICES });
    expect(accepted.text()).toContain('Guild policies updated');
    expect((await harness.core.app.policies.get(HARNESS_GUILD)).notificationChannelId).toBe(NOTICES);
  });

  it('names the options it ignored with action:view, and changes nothing', async () => {
    const reply = await harness.say(admin, 'cloud-guild-policy', { action: 'view', max_budget: 5, require_approval: true });
    expect(reply.text()).toContain('Nothing was changed: `max_budget`, `require_approval` were ignored with `action:view`');
    expect(reply.text()).toContain('Use `/cloud-guild-policy` (action: update) to change them.');
    expect((await harness.core.app.policies.get(HARNESS_GUILD))).toMatchObject({ maxBudgetMonthly: 1000, requireApproval: false });
    expect(await harness.say(admin, 'cloud-guild-policy', { action: 'view' }).then((r) => r.text())).not.toContain('ignored');
  });
});
