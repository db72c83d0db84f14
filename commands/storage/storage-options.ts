/** Slash-command options and their zod schemas for /cloud-storage, one place per option so they cannot drift apart. */
import type { SlashCommandSubcommandBuilder } from 'discord.js';
import { z } from 'zod';
import { MAX_LOG_MATCHES } from '../../src/storage/access-logs.js';
import { MAX_TOP_N } from '../../src/storage/insights.js';
import { MAX_METRICS_HOURS } from '../../src/storage/metrics-store.js';

export const DEFAULT_COUNT = 10;
export const DEFAULT_HOURS = 24;

type S = SlashCommandSubcommandBuilder;

export const requiredBucket = (name: string, description: string) => (s: S) =>
  s.addStringOption((o) => o.setName(name).setDescription(description).setRequired(true).setMinLength(3).setMaxLength(63));
export const optionalBucket = (name: string, description: string) => (s: S) =>
  s.addStringOption((o) => o.setName(name).setDescription(description).setMinLength(3).setMaxLength(63));
export const requiredText = (name: string, description: string, max = 1024) => (s: S) =>
  s.addStringOption((o) => o.setName(name).setDescription(description).setRequired(true).setMaxLength(max));
export const optionalText = (name: string, description: string, max = 1024) => (s: S) =>
  s.addStringOption((o) => o.setName(name).setDescription(description).setMaxLength(max));
export const optionalInteger = (name: string, description: string, max: number) => (s: S) =>
  s.addIntegerOption((o) => o.setName(name).setDescription(description).setMinValue(1).setMaxValue(max));

/** Which key to use; optional options come after the required ones, as Discord demands. */
export function accessOptions(s: S): S {
  return s
    .addStringOption((o) => o.setName('credential').setDescription('A stored aws or s3 credential of this server').setAutocomplete(true).setMaxLength(64))
    .addBooleanOption((o) => o.setName('one_off').setDescription('Type a key in a private form instead; used once, never stored'))
    .addStringOption((o) => o.setName('endpoint').setDescription('One-off key only: the S3-compatible endpoint (none for AWS)').setMaxLength(2048))
    .addStringOption((o) => o.setName('region').setDescription('One-off key only: the region (default us-east-1)').setMaxLength(32));
}

/** Builds a subcommand from option adders, then the access options. */
export function subcommand(name: string, description: string, ...adders: Array<(s: S) => S>) {
  return (s: S): S => accessOptions(adders.reduce((built, add) => add(built), s.setName(name).setDescription(description)));
}

export const bucket = z.string().trim().min(3).max(63);
export const optionalBucketValue = bucket.optional();
export const prefix = z.string().max(1024).optional();
export const key = z.string().min(1).max(1024);
export const count = z.number().int().min(1).max(MAX_TOP_N).default(DEFAULT_COUNT);
export const hours = z.number().int().min(1).max(MAX_METRICS_HOURS).default(DEFAULT_HOURS);
export const matchLimit = z.number().int().min(1).max(MAX_LOG_MATCHES).default(20);
export const optionalText1024 = z.string().max(1024).optional();
