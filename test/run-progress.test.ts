import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { deliverResult, withLiveProgress } from '../commands/views/run-progress.js';
import { toMarkdown } from '../src/discord/markdown.js';
import type { Actor, Message } from '../src/interaction/conversation.js';
import { ThrottledEditor } from '../src/interaction/throttled-editor.js';
import { RecordingConversation } from './support/recording-conversation.js';

const actor: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: false };

describe('live progress', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends at most one edit per interval and always the newest state', async () => {
    const sent: string[] = [];
    const editor = new ThrottledEditor(async (m: Message) => void sent.push(toMarkdown(m.content ?? '')), 3000, () => Date.now());
    for (let i = 1; i <= 10; i++) editor.update({ content: `step ${i}` });
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual(['step 10']);
    editor.update({ content: 'step 11' });
    editor.update({ content: 'step 12' });
    await vi.advanceTimersByTimeAsync(2999);
    expect(sent).toEqual(['step 10']);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toEqual(['step 10', 'step 12']);
  });

  it('shows engine events in the response while the run goes on', async () => {
    const conversation = new RecordingConversation(actor, 'cloud-deploy');
    await conversation.defer();
    const result = await withLiveProgress(conversation, 'Applying', async ({ onEvent }) => {
      onEvent({ type: 'apply_start', address: 'aws_instance.vm_1', action: 'create' });
      await vi.advanceTimersByTimeAsync(0);
      onEvent({ type: 'apply_complete', address: 'aws_instance.vm_1', action: 'create', elapsedSeconds: 4 });
      await vi.advanceTimersByTimeAsync(3000);
      return 'done';
    });
    expect(result).toBe('done');
    expect(conversation.text()).toMatch(/aws_instance\.vm_1: creating…/);
    expect(conversation.text()).toMatch(/aws_instance\.vm_1: done in 4s/);
  });
});

describe('results of long runs', () => {
  it('edit the response while the interaction token lives', async () => {
    const conversation = new RecordingConversation(actor, 'cloud-deploy');
    await conversation.defer();
    await deliverResult(conversation, { content: 'deployed' });
    expect(conversation.steps.at(-1)).toMatchObject({ kind: 'edit' });
  });

  it('go to the channel as a new message once the token has expired', async () => {
    const conversation = new RecordingConversation(actor, 'cloud-deploy');
    await conversation.defer();
    conversation.tokenAlive = false;
    await deliverResult(conversation, { content: 'deployed', ephemeral: true });
    expect(conversation.steps.at(-1)).toEqual({ kind: 'channel', message: { content: 'deployed', ephemeral: false } });
  });
});
