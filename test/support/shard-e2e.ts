/**
 * What the end-to-end shard tests share (test/e2e-discord-shards*.test.ts): reading the bot's messages and JSON log
 * lines, and driving a project from /cloud-init to a running apply against the local Discord server.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { FakeDiscordServer, InteractionHandle, OriginalMessage, RecordedMessage } from '../discord-server/index.js';

export function textOf(message: OriginalMessage | undefined): string {
  if (!message) return '';
  const embeds = message.embeds.map((e) => [e.title, e.description, ...(e.fields ?? []).map((f) => `${f.name}: ${f.value}`)].filter(Boolean).join('\n'));
  return [message.content, ...embeds].join('\n');
}

export const titled = (messages: RecordedMessage[], title: string) => messages.filter((m) => JSON.stringify(m.embeds).includes(title));

/** The bot's JSON log lines (the manager's and its shards', on one stdout). */
export function logLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface GuildSeat {
  guildId: string;
  channelId: string;
  adminId: string;
}

export function commandsIn(server: FakeDiscordServer, seat: GuildSeat) {
  const run = (userId: string, name: string, options: Array<{ name: string; value: string | number | boolean }> = []) =>
    server.sendChatInput({ guildId: seat.guildId, channelId: seat.channelId, userId, name, options, ignoreDefaultMemberPermissions: true });
  const finalText = async (handle: InteractionHandle, pattern: RegExp, timeoutMs = 15_000) =>
    textOf(await handle.waitForOriginal((m) => pattern.test(textOf(m)), timeoutMs));

  /** /cloud-init of a gcp project, then /cloud-deploy of a bucket up to its plan's Apply button; the deploy's handle. */
  async function planned(name: string): Promise<InteractionHandle> {
    const init = await run(seat.adminId, 'cloud-init', [
      { name: 'provider', value: 'gcp' },
      { name: 'project_name', value: name },
      { name: 'region', value: 'us-central1' },
    ]);
    expect((await init.waitForResponse()).type).toBe(9);
    const submitted = await server.submitModal({ guildId: seat.guildId, channelId: seat.channelId, userId: seat.adminId, fields: { project_id: 'zz-proj-4711' } });
    await finalText(submitted, /initialised/);
    const deploy = await run(seat.adminId, 'cloud-deploy', [
      { name: 'project', value: name },
      { name: 'resource_type', value: 'bucket' },
      { name: 'disk_size', value: 1 },
    ]);
    await deploy.waitForOriginal((m) => JSON.stringify(m.components).includes(':apply'), 30_000);
    return deploy;
  }

  async function pressApply(): Promise<void> {
    await (await server.clickButton({ guildId: seat.guildId, channelId: seat.channelId, userId: seat.adminId, customId: /:apply$/ })).waitForResponse();
  }

  /** A project whose apply runs until it is stopped (the stand-in engine sleeps a minute). */
  async function applyRunning(name: string, deploymentsDir: string): Promise<InteractionHandle> {
    const deploy = await planned(name);
    const slug = name.toLowerCase().replaceAll(' ', '-');
    writeFileSync(join(deploymentsDir, `guild_${seat.guildId}`, slug, 'fake-engine.json'), JSON.stringify({ sleepMs: 60_000 }));
    await pressApply();
    await finalText(deploy, /Applying bucket/, 15_000);
    return deploy;
  }

  return { run, finalText, planned, pressApply, applyRunning };
}
