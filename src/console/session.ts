/**
 * The console's read-eval-print loop. Lines are taken one at a time. From a script, the next line is read only once
 * every running command has finished or is waiting for the keyboard (a hidden form field or a button): so a script
 * piped in gives the same transcript every time, and a secret line always reaches the form that asked for it. At a
 * terminal the prompt also comes back once a command has answered, as Discord's would: a deployment goes on
 * running and printing its progress while the person types `/cloud-runs cancel`.
 */
import type { Command } from '../interaction/command.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AutocompleteRequest, Choice, Conversation, MessageAttachment, RawOptions } from '../interaction/conversation.js';
import type { ComponentPress } from '../interaction/durable-components.js';
import type { Logger } from '../logging/logger.js';
import { isUserError } from '../shared/errors.js';
import { parseCommandLine } from './command-line.js';
import { helpText } from './help.js';
import { ConsoleConversation, type CommandTask, type ConversationHost, type PendingOffer } from './console-conversation.js';
import { actorOf, type ConsoleDirectory, type ConsoleMember } from './directory.js';
import type { DurableOfferHost } from './durable-offers.js';
import type { ConsoleRenderer } from './render.js';
import type { ConsoleTerminal } from './terminal.js';
import type { Timers } from './timers.js';

/** The dispatcher as the console uses it (CommandDispatcher fits). */
export interface CommandHandling {
  readonly commands: readonly Command[];
  handle(conversation: Conversation, raw: RawOptions): Promise<void>;
  handleComponent(press: ComponentPress): Promise<void>;
  complete(request: AutocompleteRequest): Promise<Choice[]>;
}

export const BUILTIN_COMMANDS = ['/help', '/as', '/members', '/quit'] as const;

interface SecretPrompt {
  label: string;
  owner: CommandTask;
  resolve(answer: string | null): void;
}

interface RunningTask extends CommandTask {
  done: Promise<void>;
}

export interface ConsoleSessionOptions {
  terminal: ConsoleTerminal;
  directory: ConsoleDirectory;
  renderer: ConsoleRenderer;
  dispatcher: CommandHandling;
  timers: Timers;
  logger: Logger;
  acting: ConsoleMember;
  /** Where attached files (chart images) are written, since a terminal cannot show them. */
  attachmentsDir: string;
}

export class ConsoleSession implements ConversationHost, DurableOfferHost {
  readonly renderer: ConsoleRenderer;
  readonly timers: Timers;
  readonly interactive: boolean;
  private readonly terminal: ConsoleTerminal;
  readonly directory: ConsoleDirectory;
  private readonly dispatcher: CommandHandling;
  private readonly logger: Logger;
  private acting: ConsoleMember;
  private readonly tasks = new Set<RunningTask>();
  private readonly secrets: SecretPrompt[] = [];
  private readonly offers: Array<{ offer: PendingOffer; owner: CommandTask }> = [];
  private quietWaiters: Array<() => void> = [];
  private quitting = false;
  private readonly attachmentsDir: string;
  private savedAttachments = 0;

  constructor(options: ConsoleSessionOptions) {
    this.terminal = options.terminal;
    this.interactive = options.terminal.interactive;
    this.directory = options.directory;
    this.renderer = options.renderer;
    this.dispatcher = options.dispatcher;
    this.timers = options.timers;
    this.logger = options.logger;
    this.acting = options.acting;
    this.attachmentsDir = options.attachmentsDir;
    this.updatePrompt();
  }

  actingMember(): ConsoleMember {
    return this.acting;
  }

  print(text: string): void {
    this.terminal.print(text);
  }

  /** Reads lines until /quit, Ctrl-D or the end of the input; then lets running commands wind down. */
  async run(): Promise<void> {
    this.terminal.prompt();
    for await (const line of this.terminal.lines()) {
      this.takeLine(line);
      if (this.quitting) break;
      await this.quiet();
      if (this.quitting) break;
      this.terminal.prompt();
    }
    this.quitting = true;
  }

  /** Stops reading: open forms and button offers end as if dismissed, then running commands get `graceMs` to finish. */
  async stop(graceMs = 5_000): Promise<void> {
    this.quitting = true;
    for (const resolve of this.quietWaiters.splice(0)) resolve();
    for (const prompt of this.secrets.splice(0)) {
      this.terminal.endSecret();
      prompt.resolve(null);
    }
    for (const { offer } of [...this.offers]) offer.cancel();
    this.terminal.close();
    await this.drain(graceMs);
  }

  /** Waits for the commands still running, at most `graceMs`. */
  async drain(graceMs: number): Promise<void> {
    if (this.tasks.size === 0) return;
    let timer: { cancel(): void } | undefined;
    await Promise.race([
      Promise.allSettled([...this.tasks].map((t) => t.done)),
      new Promise<void>((resolve) => {
        timer = this.timers.schedule(graceMs, resolve);
      }),
    ]);
    timer?.cancel();
  }

  // ConversationHost

  saveAttachment(file: MessageAttachment): string {
    mkdirSync(this.attachmentsDir, { recursive: true, mode: 0o700 });
    this.savedAttachments += 1;
    // A counter and the process id keep two files of one name (and two consoles sharing a folder) apart.
    const safeName = file.name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '') || 'attachment';
    const path = join(this.attachmentsDir, `${process.pid}-${this.savedAttachments}-${safeName}`);
    writeFileSync(path, file.data, { mode: 0o600 });
    return path;
  }

  readSecret(label: string, owner: CommandTask): Promise<string | null> {
    if (this.quitting) return Promise.resolve(null);
    return new Promise((resolve) => {
      owner.waits += 1;
      const prompt: SecretPrompt = {
        label,
        owner,
        resolve: (answer) => {
          owner.waits -= 1;
          resolve(answer);
          this.checkQuiet();
        },
      };
      this.secrets.push(prompt);
      if (this.secrets.length === 1) this.terminal.beginSecret(label);
      this.checkQuiet();
    });
  }

  cancelSecrets(owner: CommandTask): void {
    const mine = this.secrets.filter((p) => p.owner === owner);
    for (const prompt of mine) {
      const wasActive = this.secrets[0] === prompt;
      this.secrets.splice(this.secrets.indexOf(prompt), 1);
      if (wasActive) this.terminal.endSecret();
      prompt.resolve(null);
    }
    this.showNextSecret();
  }

  addOffer(offer: PendingOffer, owner: CommandTask): void {
    owner.waits += 1;
    this.offers.push({ offer, owner });
    this.checkQuiet();
  }

  removeOffer(offer: PendingOffer): void {
    const at = this.offers.findIndex((entry) => entry.offer === offer);
    if (at < 0) return;
    const [entry] = this.offers.splice(at, 1);
    if (entry) entry.owner.waits -= 1;
    this.checkQuiet();
  }

  taskAnswered(): void {
    this.checkQuiet();
  }

  // Lines

  private takeLine(line: string): void {
    const secret = this.secrets.shift();
    if (secret) {
      this.terminal.endSecret();
      secret.resolve(line);
      this.showNextSecret();
      return;
    }
    const text = line.trim();
    if (text === '') return;
    if (!this.terminal.interactive) this.print(`@${this.acting.name} › ${text}`);
    try {
      this.interpret(text);
    } catch (error) {
      if (!isUserError(error)) throw error;
      this.print(`⛔ ${this.renderer.text(error.text)}`);
    }
  }

  private interpret(text: string): void {
    const press = /^(\d+)(?:\s+as\s+(\S+)((?:\s+--[a-z-]+)*))?$/i.exec(text);
    if (press) return this.press(Number(press[1]), press[2], press[3]);
    const [word = ''] = text.split(/\s+/, 1);
    switch (word.toLowerCase()) {
      case '/quit':
      case '/exit':
        this.quitting = true;
        return;
      case '/help':
        return this.help(text.split(/\s+/)[1]);
      case '/members':
        return this.listMembers();
      case '/as': {
        const [, name, ...flags] = text.split(/\s+/);
        if (!name) {
          this.print('Usage: /as NAME [--admin | --member] [--dms-closed | --dms-open]');
          return;
        }
        this.acting = this.applyFlags(name, flags);
        this.updatePrompt();
        this.print(`🎭 You are now ${describe(this.acting)}.`);
        return;
      }
      default:
        return this.runCommand(text);
    }
  }

  private runCommand(text: string): void {
    const parsed = parseCommandLine(text, this.dispatcher.commands, this.directory);
    if (!parsed.ok) {
      this.print(this.renderer.message('⛔ Not sent:', { content: parsed.message }));
      return;
    }
    const { guildId, defaultChannel } = this.directory;
    const actor = actorOf(this.acting);
    this.startTask((task) =>
      this.dispatcher.handle(new ConsoleConversation(this, task, guildId, defaultChannel, actor, parsed.command.name), parsed.raw),
    );
  }

  // DurableOfferHost

  startTask(work: (task: CommandTask) => Promise<void>): void {
    const task: RunningTask = { waits: 0, responded: false, done: Promise.resolve() };
    task.done = work(task)
      .catch((error: unknown) => {
        // The dispatcher answers every error itself; anything reaching here is a bug in the console.
        this.logger.error({ err: error }, 'console command failed outside the dispatcher');
        this.print('⛔ Something went wrong in the console itself; see the log.');
      })
      .finally(() => {
        this.tasks.delete(task);
        this.checkQuiet();
      });
    this.tasks.add(task);
  }

  handleComponent(press: ComponentPress): Promise<void> {
    return this.dispatcher.handleComponent(press);
  }

  private press(number: number, name: string | undefined, flags: string | undefined): void {
    const latest = this.offers.at(-1);
    if (!latest) {
      this.print('Nothing is waiting for a button press. Commands start with `/`; type `/help` for the list.');
      return;
    }
    const member = name ? this.applyFlags(name, flags?.trim() ? flags.trim().split(/\s+/) : []) : this.acting;
    const refusal = latest.offer.press(number - 1, member);
    if (refusal) this.print(`⛔ ${this.renderer.text(refusal)} (only @${member.name} sees this; the buttons are still waiting)`);
  }

  private applyFlags(name: string, flags: readonly string[]): ConsoleMember {
    const member = this.directory.member(name);
    for (const flag of flags) {
      if (flag === '--admin') member.isGuildAdmin = true;
      else if (flag === '--member') member.isGuildAdmin = false;
      else if (flag === '--dms-closed') member.dmsOpen = false;
      else if (flag === '--dms-open') member.dmsOpen = true;
      else this.print(`(ignored unknown flag ${flag}; known: --admin, --member, --dms-closed, --dms-open)`);
    }
    return member;
  }

  private help(topic: string | undefined): void {
    this.print(helpText(this.dispatcher.commands, topic));
  }

  private listMembers(): void {
    const lines = [`Members of "${this.directory.guildName}" (you are @${this.acting.name}):`];
    for (const member of this.directory.members()) lines.push(`  ${describe(member)}  id ${member.id}`);
    this.print(lines.join('\n'));
  }

  private updatePrompt(): void {
    this.terminal.setPrompt(`${this.acting.name}${this.acting.isGuildAdmin ? ' (admin)' : ''}> `);
  }

  private showNextSecret(): void {
    const next = this.secrets[0];
    if (next) this.terminal.beginSecret(next.label);
  }

  /** Resolves once no command is running without waiting for the keyboard (or, at a terminal, without having answered). */
  private quiet(): Promise<void> {
    if (this.isQuiet()) return Promise.resolve();
    return new Promise((resolve) => this.quietWaiters.push(resolve));
  }

  private isQuiet(): boolean {
    for (const task of this.tasks) if (task.waits <= 0 && !(this.interactive && task.responded)) return false;
    return true;
  }

  private checkQuiet(): void {
    if (!this.isQuiet()) return;
    const waiters = this.quietWaiters;
    this.quietWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** Descriptions of admin commands often say so already. */
function describe(member: ConsoleMember): string {
  const role = member.isGuildAdmin ? 'server admin' : 'member';
  return `@${member.name} (${role}${member.dmsOpen ? '' : ', DMs closed'})`;
}
