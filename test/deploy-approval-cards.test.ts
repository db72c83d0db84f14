/**
 * An approval card closed without a press on it (the janitor's expiry) is edited to how it ended, without buttons,
 * once: across two ticks, a restart, a crash between the expiry and the edit, and a passing failure. A card that can
 * no longer be edited (deleted) leaves the approval expired and the failure logged, tried no more. A shard's janitor
 * edits only the cards of its own guilds. Real cores over one SQLite file with migrations, the stand-in engine, a
 * fake clock.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ApprovalCardEdits } from '../src/deploy/approval-card-edits.js';
import type { Actor } from '../src/interaction/conversation.js';
import { createLogger } from '../src/logging/logger.js';
import type { Notice } from '../src/notify/notifier.js';
import { shardOfGuild } from '../src/sharding/shard-scope.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';
import { APP_CHANNEL, APP_GUILD, appFixture, bootApp } from './support/jit-request-app.js';
import { STAND_IN_SANDBOX_ENV } from './support/sandbox-env.js';

const alice: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const carol: Actor = { id: '300000000000000003', displayName: 'carol', isBot: false, isGuildAdmin: true };
const OTHER_GUILD = '222222222222222222';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const ENV = { IAC_BIN_DIR: FAKE_ENGINE_BIN, CREDENTIALS_MASTER_KEY: randomBytes(32).toString('base64'), ...STAND_IN_SANDBOX_ENV, DEPLOY_APPROVAL_TTL_MINUTES: '60' };

/** A guild that needs an admin's approval for every deployment; alice asks for a bucket, its card is posted. */
async function requested() {
  const fixture = appFixture(cleanups, ENV);
  const first = await fixture.boot();
  await first.app.credentials.create({ guildId: APP_GUILD, name: 'gcp-main', provider: 'gcp', secrets: { project_id: 'stored-proj' }, createdBy: alice.id });
  expect((await first.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1', credential: 'gcp-main' })).text()).toMatch(/initialised/);
  expect((await first.say(alice, 'cloud-guild-policy', { action: 'update', require_approval: true })).text()).toMatch(/Approval required/);
  const reply = await first.say(alice, 'cloud-deploy', { project: 'web', resource_type: 'bucket', disk_size: 5 }, APP_GUILD, APP_CHANNEL, { buttons: [{ buttonId: 'apply', by: alice }] });
  const approval = await first.app.deployApprovals.records.findInGuild(APP_GUILD, 1);
  if (!approval?.card) throw new Error(`no approval card recorded: ${reply.text()}`);
  return { ...fixture, first, card: approval.card };
}

const withoutButtons = (notices: Notice[]) => notices.every((n) => (n.buttons ?? []).length === 0);

describe('an approval card closed without a press on it', () => {
  it('is recorded where it was posted, and is edited to expired once when the janitor expires it, across ticks and a restart', async () => {
    const { first, notifier, clock, boot, card } = await requested();
    expect(card.channelId).toBe(APP_CHANNEL);
    expect(notifier.editsOf(card.messageId)).toEqual([]);
    clock.advanceMinutes(59);
    await first.tick();
    expect(notifier.editsOf(card.messageId)).toEqual([]);
    clock.advanceMinutes(2);
    await first.tick();
    await first.tick();
    const edits = notifier.editsOf(card.messageId);
    expect(edits.map((n) => n.title)).toEqual(['⌛ Deployment approval #1']);
    expect(JSON.stringify(edits[0]!.description)).toMatch(/Expired: nobody approved it by/);
    expect(withoutButtons(edits)).toBe(true);
    await first.stop();
    const second = await boot();
    await second.tick();
    expect(notifier.edits).toHaveLength(1);
    expect(notifier.dmsTo(alice.id).map((n) => n.title)).toEqual(['Deployment approval expired']);
  });

  it('a crash after the expiry, before the edit: the next process edits it, once', async () => {
    const { first, notifier, clock, boot, card } = await requested();
    clock.advanceMinutes(61);
    // The janitor's first half, as a process killed right after it would leave it.
    expect(await first.app.deployApprovals.records.expireDue(clock.now(), 10)).toHaveLength(1);
    await first.stop();
    expect(notifier.edits).toEqual([]);
    const second = await boot();
    await second.tick();
    await second.tick();
    expect(notifier.editsOf(card.messageId).map((n) => n.title)).toEqual(['⌛ Deployment approval #1']);
  });

  it('a passing failure is tried again at the next tick; the expiry does not wait for it', async () => {
    const { first, notifier, clock, card } = await requested();
    clock.advanceMinutes(61);
    notifier.failNextEdits(1);
    await first.tick();
    expect((await first.app.deployApprovals.records.findInGuild(APP_GUILD, 1))?.status).toBe('expired');
    expect(notifier.edits).toEqual([]);
    await first.tick();
    await first.tick();
    expect(notifier.editsOf(card.messageId)).toHaveLength(1);
  });

  it('a card deleted from the channel: the approval is expired and the requester told, the failure logged, never retried', async () => {
    const { first, notifier, clock, card } = await requested();
    notifier.deleteMessage(card.messageId);
    clock.advanceMinutes(61);
    await first.app.deployApprovals.records.expireDue(clock.now(), 10);
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger('debug', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const { records, outbox } = first.app.deployApprovals;
    const edits = new ApprovalCardEdits({ records, factsOf: (approval) => outbox.factsOf(approval), notifier, logger });
    expect(await edits.editQueued()).toMatchObject({ edited: 0, failed: 1, retrying: 0 });
    expect(lines.some((l) => l.level === 40 && l.approvalId === 1 && String(l.msg).includes('cannot be edited'))).toBe(true);
    expect(await edits.editQueued()).toMatchObject({ edited: 0, failed: 0, skipped: 0 });
    await first.tick();
    expect((await records.findInGuild(APP_GUILD, 1))?.status).toBe('expired');
    expect(notifier.edits).toEqual([]);
    expect(notifier.dmsTo(alice.id).map((n) => n.title)).toEqual(['Deployment approval expired']);
  });

  it('a card a press decided is not edited by the janitor (the press updated it)', async () => {
    const { first, notifier, clock, card } = await requested();
    const reject = `deployapr:reject:1`;
    expect((await first.press(carol, reject)).text()).toMatch(/Rejected by/);
    clock.advanceMinutes(61);
    await first.tick();
    await first.tick();
    expect(notifier.editsOf(card.messageId)).toEqual([]);
  });

  it('is not recorded for another guild’s id, and is edited only by the janitor of the shard serving its guild', async () => {
    const { first, notifier, clock, dir, card } = await requested();
    await first.app.deployApprovals.records.recordCard(OTHER_GUILD, 1, { channelId: 'elsewhere', messageId: 'forged' });
    expect((await first.app.deployApprovals.records.findInGuild(APP_GUILD, 1))?.card).toEqual(card);
    await first.stop();
    clock.advanceMinutes(61);
    const own = shardOfGuild(APP_GUILD, 2);
    const other = await bootApp(dir, clock, notifier, ENV, { id: 1 - own, count: 2 });
    await other.tick();
    await other.tick();
    expect((await other.app.deployApprovals.records.findInGuild(APP_GUILD, 1))?.status).toBe('pending');
    expect(notifier.edits).toEqual([]);
    await other.stop();
    const serving = await bootApp(dir, clock, notifier, ENV, { id: own, count: 2 });
    cleanups.push(() => serving.stop());
    await serving.tick();
    expect(notifier.editsOf(card.messageId).map((n) => n.title)).toEqual(['⌛ Deployment approval #1']);
  });
});
