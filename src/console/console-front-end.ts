/**
 * `npm run console`: the bot's composition root with a terminal in place of the Discord client. The handlers,
 * the dispatcher's rules and the domain are the same ones Discord uses; only the Conversation and the Notifier differ.
 */
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { allCommands } from '../../commands/index.js';
import { buildCore, type Core } from '../app/bootstrap.js';
import type { Config } from '../config/index.js';
import type { Command } from '../interaction/command.js';
import { CommandDispatcher } from '../interaction/dispatcher.js';
import type { Logger } from '../logging/logger.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { UserError } from '../shared/errors.js';
import { createCompleter } from './completer.js';
import { ConsoleNotifier } from './console-notifier.js';
import { actorOf, ConsoleDirectory } from './directory.js';
import { ConsoleRenderer } from './render.js';
import { BUILTIN_COMMANDS, ConsoleSession } from './session.js';
import { ConsoleTerminal, type Completer } from './terminal.js';
import { realTimers, type Timers } from './timers.js';

export interface ConsoleFrontEndOptions {
  config: Config;
  logger: Logger;
  /** Command-line arguments: `--user NAME`, `--admin`, `--help` (`--console` is ignored). */
  argv: readonly string[];
  /** Defaults to the process's stdin/stdout; tests pass streams. */
  input?: Readable;
  output?: Writable;
  clock?: Clock;
  /** When forms and buttons time out; tests pass hand-driven timers. */
  timers?: Timers;
  /** Defaults to the registry every front end uses. */
  commands?: readonly Command[];
  /** Called once the core is built (main.ts hands it to the last resort). */
  onCore?: (core: Core) => void;
}

export interface ConsoleFlags {
  user: string;
  admin: boolean;
  help: boolean;
}

export const CONSOLE_USAGE = `Usage: npm run console -- [--user NAME] [--admin]

  --user NAME   act as this member of the console server (default: your login name)
  --admin       that member has the Manage Server permission (a server admin)

Inside, /help lists the commands and /as NAME [--admin] switches member.
`;

export class ConsoleFlagError extends UserError {
  constructor(problem: string) {
    super('console.bad_flag', `${problem}\n${CONSOLE_USAGE}`);
  }
}

export function parseConsoleArgs(argv: readonly string[]): ConsoleFlags {
  const flags: ConsoleFlags = { user: defaultUserName(), admin: false, help: false };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--console') continue;
    if (arg === '--admin') flags.admin = true;
    else if (arg === '--help' || arg === '-h') flags.help = true;
    else if (arg === '--user') {
      const name = argv[i + 1];
      if (!name || name.startsWith('--')) throw new ConsoleFlagError('--user needs a name, e.g. --user alice');
      flags.user = name;
      i += 1;
    } else if (arg.startsWith('--user=')) flags.user = arg.slice('--user='.length);
    else throw new ConsoleFlagError(`Unknown argument ${arg}.`);
  }
  return flags;
}

function defaultUserName(): string {
  try {
    const name = userInfo().username.replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 32);
    return /^[A-Za-z0-9]/.test(name) ? name : 'operator';
  } catch {
    return 'operator';
  }
}

/** Runs the console until /quit, Ctrl-D, the end of the input or a signal; then shuts the core down gracefully. */
export async function runConsoleFrontEnd(options: ConsoleFrontEndOptions): Promise<void> {
  const output = options.output ?? process.stdout;
  const flags = parseConsoleArgs(options.argv);
  if (flags.help) {
    output.write(CONSOLE_USAGE);
    return;
  }
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? realTimers;
  const commands = options.commands ?? allCommands;
  const directory = new ConsoleDirectory();
  const acting = directory.member(flags.user);
  acting.isGuildAdmin = flags.admin;
  const renderer = new ConsoleRenderer(clock, directory);

  // The completer needs the dispatcher, which needs the core, which needs the notifier, which prints here.
  let completeLine: Completer = async (line) => [[], line];
  let requestStop = (): void => undefined;
  const terminal = new ConsoleTerminal({
    input: options.input ?? process.stdin,
    output,
    completer: (line) => completeLine(line),
    onInterrupt: () => requestStop(),
  });
  const notifier = new ConsoleNotifier(directory, renderer, (text) => terminal.print(text));

  let core: Core;
  try {
    core = await buildCore({ config: options.config, clock, logger: options.logger, notifier });
  } catch (error) {
    terminal.close();
    throw error;
  }
  options.onCore?.(core);
  // One person plays every member here: the member and guild rate limits are for Discord, where many members share a bot.
  const dispatcher = new CommandDispatcher(commands, core.app, { rateLimits: false });
  // Next to the database: the operator's data folder, which the console already writes to.
  const attachmentsDir = join(dirname(options.config.DATABASE_PATH), 'attachments');
  const session = new ConsoleSession({ terminal, directory, renderer, dispatcher, timers, logger: options.logger, acting, attachmentsDir });
  completeLine = createCompleter({
    commands,
    builtins: BUILTIN_COMMANDS,
    directory,
    actor: () => actorOf(session.actingMember()),
    complete: (request) => dispatcher.complete(request),
  });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await session.stop();
      await core.shutdown();
    })());
  requestStop = () => {
    terminal.print('Shutting down: open forms and buttons are dropped, running deployments are stopped gracefully…');
    void stop();
  };
  const onSignal = () => {
    if (stopping) process.exit(1);
    requestStop();
  };
  const ownsProcess = options.input === undefined;
  if (ownsProcess) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  try {
    core.janitor.start();
    terminal.print(
      [
        `Cloud ChatOps console — the bot's commands in a terminal, in the server "${directory.guildName}" (#${directory.defaultChannel.name}).`,
        `You are @${acting.name} (${acting.isGuildAdmin ? 'server admin' : 'member'}). /help lists the commands, ` +
          '/as NAME [--admin] acts as another member, /quit leaves.',
      ].join('\n'),
    );
    // Alongside the session, not before it: the session must be listening when the first line arrives.
    void core.announceInterruptedRuns().catch((error: unknown) => options.logger.error({ err: error }, 'could not announce interrupted runs'));
    await session.run();
  } finally {
    await stop();
    if (ownsProcess) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    if (output.writable) output.write('Bye.\n');
  }
}
