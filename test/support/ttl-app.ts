/**
 * Bots over one database folder for the TTL tests: the real core and dispatcher (durable handlers included), the
 * stand-in engine, the fake clock and a recording notifier; `say` answers forms and buttons from a script, `press`
 * presses a durable button, and a second `boot()` over the same folder stands for the bot after a crash or restart.
 */
import { join } from 'node:path';
import { allCommands, allComponentHandlers } from '../../commands/index.js';
import { buildCore } from '../../src/app/bootstrap.js';
import { parseConfig } from '../../src/config/index.js';
import type { Actor, RawOptions } from '../../src/interaction/conversation.js';
import { CommandDispatcher } from '../../src/interaction/dispatcher.js';
import { createLogger } from '../../src/logging/logger.js';
import { FAKE_ENGINE_BIN } from './bot-process.js';
import { FakeClock } from './clock.js';
import { RecordingConversation, type ScriptedPress } from './recording-conversation.js';
import { RecordingNotifier } from './recording-notifier.js';
import { RecordingPress } from './recording-press.js';
import { STAND_IN_SANDBOX_ENV } from './sandbox-env.js';
import { makeTempDir } from './tmp.js';

export const TTL_GUILD = '111111111111111111';
export const TTL_CHANNEL = '400000000000000001';

export function ttlFixture(cleanups: Array<() => Promise<void> | void>, env: Record<string, string> = {}) {
  const { dir, cleanup } = makeTempDir('chatops-ttl-');
  cleanups.push(cleanup);
  const clock = new FakeClock();
  const notifier = new RecordingNotifier({ [TTL_GUILD]: 'ACME Corp' });
  const boot = async () => {
    const config = parseConfig({
      DATABASE_PATH: join(dir, 'db.sqlite'),
      DEPLOYMENTS_DIR: join(dir, 'deployments'),
      LOG_LEVEL: 'silent',
      IAC_BIN_DIR: FAKE_ENGINE_BIN,
      ...STAND_IN_SANDBOX_ENV,
      ...env,
    });
    const core = await buildCore({ config, clock, logger: createLogger('silent'), notifier });
    const dispatcher = new CommandDispatcher(allCommands, core.app, { components: allComponentHandlers });
    let stopped = false;
    const stop = async () => {
      if (!stopped) await core.shutdown();
      stopped = true;
    };
    cleanups.push(stop);
    return {
      core,
      app: core.app,
      async say(actor: Actor, name: string, options: RawOptions = {}, answers: { modal?: Record<string, string>; buttons?: ScriptedPress[] } = {}, guildId = TTL_GUILD) {
        const conversation = new RecordingConversation(actor, name, guildId, TTL_CHANNEL, answers);
        await dispatcher.handle(conversation, options);
        return conversation;
      },
      async press(actor: Actor, customId: string, where: { guildId?: string | null; channelId?: string; values?: Record<string, string> } = {}) {
        const press = new RecordingPress(actor, customId, where.guildId === undefined ? TTL_GUILD : where.guildId, where.channelId ?? TTL_CHANNEL, where.values);
        await dispatcher.handleComponent(press);
        return press;
      },
      /** One janitor tick, then every destroy it started, to its end. */
      async tick() {
        const report = await core.janitor.tick();
        await core.app.deploymentTtls.settled();
        return report;
      },
      stop,
    };
  };
  return { dir, clock, notifier, boot };
}
