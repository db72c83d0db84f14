import { join } from 'node:path';
import { allCommands, allComponentHandlers } from '../../commands/index.js';
import { buildCore } from '../../src/app/bootstrap.js';
import { parseConfig } from '../../src/config/index.js';
import type { Actor, RawOptions } from '../../src/interaction/conversation.js';
import { CommandDispatcher } from '../../src/interaction/dispatcher.js';
import { createLogger } from '../../src/logging/logger.js';
import type { ShardScope } from '../../src/sharding/shard-scope.js';
import { FakeClock } from './clock.js';
import { RecordingConversation } from './recording-conversation.js';
import { RecordingNotifier } from './recording-notifier.js';
import { RecordingPress } from './recording-press.js';
import { makeTempDir } from './tmp.js';

export const APP_GUILD = '111111111111111111';
export const APP_CHANNEL = '400000000000000001';

/**
 * One "process" of the bot over the database in `dir`: the real core and dispatcher (durable handlers included),
 * the given clock and notifier. Two of them in turn over one folder stand for the bot before and after a restart.
 */
export async function bootApp(dir: string, clock: FakeClock, notifier: RecordingNotifier, env: Record<string, string> = {}, shard?: ShardScope) {
  const config = parseConfig({ DATABASE_PATH: join(dir, 'db.sqlite'), DEPLOYMENTS_DIR: join(dir, 'deployments'), LOG_LEVEL: 'silent', ...env });
  const core = await buildCore({ config, clock, logger: createLogger('silent'), notifier, shard });
  const dispatcher = new CommandDispatcher(allCommands, core.app, { components: allComponentHandlers });
  return {
    core,
    app: core.app,
    /** Runs a slash command as `actor`. */
    async say(actor: Actor, name: string, options: RawOptions = {}, guildId = APP_GUILD, channelId = APP_CHANNEL, answers: ConstructorParameters<typeof RecordingConversation>[4] = {}) {
      const conversation = new RecordingConversation(actor, name, guildId, channelId, answers);
      await dispatcher.handle(conversation, options);
      return conversation;
    },
    /** Presses a durable button (or submits a durable form, with `values`); `guildId: null` presses in a DM. */
    async press(actor: Actor, customId: string, where: { guildId?: string | null; channelId?: string; values?: Record<string, string> } = {}) {
      const press = new RecordingPress(actor, customId, where.guildId === undefined ? APP_GUILD : where.guildId, where.channelId ?? APP_CHANNEL, where.values);
      await dispatcher.handleComponent(press);
      return press;
    },
    tick: () => core.janitor.tick(),
    stop: () => core.shutdown(),
  };
}

/**
 * A database folder, a clock and a notifier shared by the "processes" `boot()` starts over them; each one is stopped,
 * and the folder removed, by the cleanups given (run them in reverse after each test).
 */
export function appFixture(cleanups: Array<() => Promise<void> | void>, env: Record<string, string> = {}) {
  const { dir, cleanup } = makeTempDir('chatops-jit-');
  cleanups.push(cleanup);
  const clock = new FakeClock();
  const notifier = new RecordingNotifier({ [APP_GUILD]: 'ACME Corp' });
  const boot = async (using: RecordingNotifier = notifier) => {
    const app = await bootApp(dir, clock, using, env);
    let stopped = false;
    const stop = async () => {
      if (!stopped) await app.stop();
      stopped = true;
    };
    cleanups.push(stop);
    return { ...app, stop };
  };
  return { dir, clock, notifier, boot };
}
