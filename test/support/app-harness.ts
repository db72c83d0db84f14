import { Writable } from 'node:stream';
import { join } from 'node:path';
import { allCommands, allComponentHandlers } from '../../commands/index.js';
import { buildCore, type Core, type CoreOptions } from '../../src/app/bootstrap.js';
import { parseConfig } from '../../src/config/index.js';
import type { Command } from '../../src/interaction/command.js';
import type { Actor, RawOptions } from '../../src/interaction/conversation.js';
import { CommandDispatcher } from '../../src/interaction/dispatcher.js';
import { createLogger } from '../../src/logging/logger.js';
import { FakeClock } from './clock.js';
import { RecordingConversation } from './recording-conversation.js';
import { RecordingNotifier } from './recording-notifier.js';
import { RecordingPress } from './recording-press.js';
import { makeTempDir } from './tmp.js';
import { STAND_IN_SANDBOX_ENV } from './sandbox-env.js';

export const HARNESS_GUILD = '111111111111111111';

export type Answers = ConstructorParameters<typeof RecordingConversation>[4];

/**
 * The real core (database, vault, policies, runner...) on temporary folders, a dispatcher over every command, and
 * `say()` to run a command as a member through a RecordingConversation. Only the clock and notifier are fakes.
 * `seams` are the composition root's host seams a test may set (a git transport for local repositories).
 */
export async function startAppHarness(env: Record<string, string> = {}, extraCommands: Command[] = [], seams: Pick<CoreOptions, 'templateGit'> = {}) {
  const { dir, cleanup } = makeTempDir('chatops-app-');
  const clock = new FakeClock();
  let logs = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs += chunk.toString();
      done();
    },
  });
  const config = parseConfig({ DATABASE_PATH: join(dir, 'db.sqlite'), DEPLOYMENTS_DIR: join(dir, 'deployments'), ...STAND_IN_SANDBOX_ENV, ...env });
  const notifier = new RecordingNotifier();
  const core: Core = await buildCore({ config, clock, logger: createLogger('info', sink), notifier, ...seams });
  // A live bot renews its leases all the while; minutes the test skips are no exception. On SQLite the renewal is
  // written within the call; a failure goes to the heartbeat's own error report, so nothing is left to await.
  clock.whenAdvanced(() => void core.heartbeat.beat());
  const dispatcher = new CommandDispatcher([...allCommands, ...extraCommands], core.app, { components: allComponentHandlers });
  const say = async (
    actor: Actor,
    name: string,
    options: RawOptions = {},
    guildId = HARNESS_GUILD,
    answers: Answers = {},
  ) => {
    const conversation = new RecordingConversation(actor, name, guildId, '400000000000000001', answers);
    await dispatcher.handle(conversation, options);
    return conversation;
  };
  /** Presses a durable button (a card's Approve...) as `actor`; `guildId: null` presses in a DM. */
  const press = async (actor: Actor, customId: string, where: { guildId?: string | null; values?: Record<string, string> } = {}) => {
    const pressed = new RecordingPress(actor, customId, where.guildId === undefined ? HARNESS_GUILD : where.guildId, '400000000000000001', where.values);
    await dispatcher.handleComponent(pressed);
    return pressed;
  };
  /** The custom id of a durable button labelled `label` on the last notice posted in the commands' channel that has one. */
  const durableButton = (label: string) => {
    const notice = notifier.postsIn('400000000000000001').findLast((n) => n.buttons?.some((b) => b.label === label));
    const id = notice?.buttons?.find((b) => b.label === label)?.customId;
    if (!id) throw new Error(`no "${label}" button posted`);
    return id;
  };
  return {
    core,
    clock,
    notifier,
    dispatcher,
    say,
    press,
    durableButton,
    dir,
    logs: () => logs,
    async stop() {
      await core.shutdown();
      cleanup();
    },
  };
}
