/**
 * The console's stand-in for a Discord guild: one server, its members and its text channels, kept in memory.
 * Ids are snowflakes derived from names, so `bob` is the same member (and owns the same grants and vault
 * sessions in the database) every time the console starts.
 */
import { createHash } from 'node:crypto';
import type { Actor, UserOptionValue } from '../interaction/conversation.js';
import { UserError } from '../shared/errors.js';

export const CONSOLE_GUILD_ID = '100000000000000001';
export const CONSOLE_GUILD_NAME = 'Console';
export const DEFAULT_CHANNEL_NAME = 'general';

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

export interface ConsoleMember {
  id: string;
  name: string;
  isGuildAdmin: boolean;
  /** Closed DMs make the notifier refuse, as Discord's error 50007 does, so the channel fallback can be tried. */
  dmsOpen: boolean;
}

export interface ConsoleChannel {
  id: string;
  name: string;
}

export class InvalidName extends UserError {
  constructor(kind: 'member' | 'channel', name: string) {
    super(
      'console.invalid_name',
      `\`${name}\` is not a valid ${kind} name: use 1 to 32 letters, digits, "_", "." or "-", starting with a letter or digit.`,
    );
  }
}

/** An 18-digit snowflake from a name; the namespace keeps a member and a channel of the same name apart. */
export function snowflakeFromName(namespace: 'member' | 'channel', name: string): string {
  const digest = createHash('sha256').update(`cloud-chatops-console:${namespace}:${name.toLowerCase()}`).digest();
  const spread = digest.readBigUInt64BE(0) % 800_000_000_000_000_000n;
  // 2×10^17 and up: 18 digits, never the guild id (1000…0001) nor its default channel.
  return (200_000_000_000_000_000n + spread).toString();
}

export class ConsoleDirectory {
  readonly guildId = CONSOLE_GUILD_ID;
  readonly guildName = CONSOLE_GUILD_NAME;
  private readonly membersByKey = new Map<string, ConsoleMember>();
  private readonly channelsByKey = new Map<string, ConsoleChannel>();
  readonly defaultChannel: ConsoleChannel;

  constructor() {
    this.defaultChannel = this.channel(DEFAULT_CHANNEL_NAME);
  }

  /** The member of that name, created (not an admin) when new. */
  member(name: string): ConsoleMember {
    const clean = name.replace(/^@/, '');
    if (!NAME_PATTERN.test(clean)) throw new InvalidName('member', clean);
    const key = clean.toLowerCase();
    let member = this.membersByKey.get(key);
    if (!member) {
      member = { id: snowflakeFromName('member', clean), name: clean, isGuildAdmin: false, dmsOpen: true };
      this.membersByKey.set(key, member);
    }
    return member;
  }

  /** Gives or takes the Manage Server permission. */
  setAdmin(name: string, isGuildAdmin: boolean): ConsoleMember {
    const member = this.member(name);
    member.isGuildAdmin = isGuildAdmin;
    return member;
  }

  /** The member of that name if there is one; never creates. */
  findMember(name: string): ConsoleMember | undefined {
    return this.membersByKey.get(name.replace(/^@/, '').toLowerCase());
  }

  memberById(id: string): ConsoleMember | undefined {
    for (const member of this.membersByKey.values()) if (member.id === id) return member;
    return undefined;
  }

  members(): ConsoleMember[] {
    return [...this.membersByKey.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The text channel of that name, created when new. */
  channel(name: string): ConsoleChannel {
    const clean = name.replace(/^#/, '');
    if (!NAME_PATTERN.test(clean)) throw new InvalidName('channel', clean);
    const key = clean.toLowerCase();
    let channel = this.channelsByKey.get(key);
    if (!channel) {
      const id = key === DEFAULT_CHANNEL_NAME ? '100000000000000002' : snowflakeFromName('channel', clean);
      channel = { id, name: clean };
      this.channelsByKey.set(key, channel);
    }
    return channel;
  }

  channelById(id: string): ConsoleChannel | undefined {
    for (const channel of this.channelsByKey.values()) if (channel.id === id) return channel;
    return undefined;
  }

  channels(): ConsoleChannel[] {
    return [...this.channelsByKey.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}

export function actorOf(member: ConsoleMember): Actor {
  return { id: member.id, displayName: member.name, isBot: false, isGuildAdmin: member.isGuildAdmin };
}

export function userOptionOf(member: ConsoleMember): UserOptionValue {
  return { id: member.id, displayName: member.name, isBot: false };
}
