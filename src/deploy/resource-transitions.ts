/**
 * What the moments of an engine run mean for a resource's status: planned → applying → active (or failed), and
 * active → destroying → destroyed (or failed); a run stopped by the bot's shutdown leaves it interrupted, to be
 * planned again. The runner reports the moments (src/engine/resource-transitions.ts); the deploy domain owns
 * the statuses.
 */
import type { Logger } from '../logging/logger.js';
import type { ResourceRepository } from '../projects/index.js';
import type { ResourceTransitions } from '../engine/resource-transitions.js';
import { meaningOf, type RunEnd } from '../engine/stop-reasons.js';

export class ResourceStatusTransitions implements ResourceTransitions {
  readonly #logger: Logger;

  constructor(
    private readonly resources: ResourceRepository,
    logger: Logger,
  ) {
    this.#logger = logger.child({ module: 'resource-transitions' });
  }

  applyStarted(guildId: string, resourceId: number, addresses: readonly string[]): void {
    this.resources.setStatus(guildId, resourceId, 'applying', { addresses: [...addresses] });
  }

  applySucceeded(guildId: string, resourceId: number): void {
    this.resources.setStatus(guildId, resourceId, 'active');
  }

  applyEnded(guildId: string, resourceId: number, end: RunEnd): void {
    this.#settle(guildId, resourceId, 'applying', end);
  }

  destroyStarted(guildId: string, resourceIds: readonly number[]): void {
    for (const id of resourceIds) this.resources.setStatus(guildId, id, 'destroying');
  }

  destroySucceeded(guildId: string, resourceIds: readonly number[]): void {
    for (const id of resourceIds) this.resources.setStatus(guildId, id, 'destroyed');
  }

  destroyEnded(guildId: string, resourceIds: readonly number[], end: RunEnd): void {
    for (const id of resourceIds) this.#settle(guildId, id, 'destroying', end);
  }

  /** Only a resource still in the middle state moves: one the run never reached keeps its status. */
  #settle(guildId: string, resourceId: number, middle: 'applying' | 'destroying', end: RunEnd): void {
    try {
      const resource = this.resources.get(guildId, resourceId);
      if (resource.status !== middle) return;
      const meaning = meaningOf(end);
      this.resources.setStatus(guildId, resourceId, meaning.resourceStatus, { lastError: meaning.resourceError });
    } catch (error) {
      this.#logger.error({ err: error, resourceId }, 'could not record the resource outcome');
    }
  }
}
