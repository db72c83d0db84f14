import { z } from 'zod';
import { JIT_PROVIDERS, PERMISSION_LEVELS, PROVIDERS, type JitProvider, type PermissionLevel, type Provider } from '../db/schema.js';

export { PERMISSION_LEVELS, JIT_PROVIDERS, type PermissionLevel, type JitProvider, type Provider };

export const permissionLevelSchema = z.enum(PERMISSION_LEVELS, { error: `one of ${PERMISSION_LEVELS.join(', ')}` });
export const jitProviderSchema = z.enum(JIT_PROVIDERS, { error: `one of ${JIT_PROVIDERS.join(', ')}` });
export const providerSchema = z.enum(PROVIDERS, { error: `one of ${PROVIDERS.join(', ')}` });

/** Position in the order viewer < deployer < admin; higher means more power. */
export function levelRank(level: PermissionLevel): number {
  return PERMISSION_LEVELS.indexOf(level);
}

/** True when `held` is the same as or above `needed`; no level (null) satisfies nothing. */
export function satisfies(held: PermissionLevel | null, needed: PermissionLevel): boolean {
  return held !== null && levelRank(held) >= levelRank(needed);
}

/** The highest of the given levels, or null when there are none. */
export function highestLevel(levels: Iterable<PermissionLevel>): PermissionLevel | null {
  let best: PermissionLevel | null = null;
  for (const level of levels) {
    if (best === null || levelRank(level) > levelRank(best)) best = level;
  }
  return best;
}

/** Whether a grant for `granted` covers a command on `provider` ('all' covers every provider). */
export function providerCovers(granted: JitProvider, provider: Provider): boolean {
  return granted === 'all' || granted === provider;
}

const LEVEL_LABELS: Record<PermissionLevel, string> = { viewer: 'Viewer', deployer: 'Deployer', admin: 'Admin' };
const PROVIDER_LABELS: Record<JitProvider, string> = { gcp: 'GCP', aws: 'AWS', azure: 'Azure', all: 'all providers' };

export function levelLabel(level: PermissionLevel): string {
  return LEVEL_LABELS[level];
}

export function providerLabel(provider: JitProvider): string {
  return PROVIDER_LABELS[provider];
}
