/**
 * The moments of a run that change a resource, as the runner reports them and awaits. The deploy domain decides what
 * each means for the resource's status (see src/deploy/resource-transitions.ts); the runner only says what happened.
 */
import type { RunEnd } from './stop-reasons.js';

export interface ResourceTransitions {
  /** An apply of the resource's plan is about to run; `addresses` are what the plan showed it will own. */
  applyStarted(guildId: string, resourceId: number, addresses: readonly string[]): Promise<void>;
  applySucceeded(guildId: string, resourceId: number): Promise<void>;
  /** The apply did not succeed (after it started). Must not reject. */
  applyEnded(guildId: string, resourceId: number, end: RunEnd): Promise<void>;
  /** A destroy of these resources is about to run. */
  destroyStarted(guildId: string, resourceIds: readonly number[]): Promise<void>;
  destroySucceeded(guildId: string, resourceIds: readonly number[]): Promise<void>;
  /** The destroy did not succeed (after it started). Must not reject. */
  destroyEnded(guildId: string, resourceIds: readonly number[], end: RunEnd): Promise<void>;
}
