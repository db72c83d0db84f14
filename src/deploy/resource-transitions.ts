/**
 * What the moments of an engine run mean for a resource's status: planned → applying → active (or failed), and
 * active → destroying → destroyed (or failed); a run stopped by the bot's shutdown leaves it interrupted, to be
 * planned again. The runner reports the moments (src/engine/resource-transitions.ts) and awaits each; the deploy
 * domain owns the statuses.
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

  async applyStarted(guildId: string, resourceId: number, addresses: readonly string[]): Promise<void> {
    await this.resources.setStatus(guildId, resourceId, 'applying', { addresses: [...addresses] });
  }

  async applySucceeded(guildId: string, resourceId: number): Promise<void> {
    await this.resources.setStatus(guildId, resourceId, 'active');
  }

  async applyEnded(guildId: string, resourceId: number, end: RunEnd): Promise<void> {
    await this.#settle(guildId, resourceId, 'applying', end);
  }

  /** One after the other, in order: a failure part-way leaves the rest as they were, as it did before. */
  async destroyStarted(guildId: string, resourceIds: readonly number[]): Promise<void> {
    for (const id of resourceIds) await this.resources.setStatus(guildId, id, 'destroying');
  }

  async destroySucceeded(guildId: string, resourceIds: readonly number[]): Promise<void> {
    for (const id of resourceIds) await this.resources.setStatus(guildId, id, 'destroyed');
  }

  async destroyEnded(guildId: string, resourceIds: readonly number[], end: RunEnd): Promise<void> {
    for (const id of resourceIds) await this.#settle(guildId, id, 'destroying', end);
  }

  /** Only a resource still in the middle state moves: one the run never reached keeps its status. */
  async #settle(guildId: string, resourceId: number, middle: 'applying' | 'destroying', end: RunEnd): Promise<void> {
    try {
      const resource = await this.resources.get(guildId, resourceId);
      if (resource.status !== middle) return;
      const meaning = meaningOf(end);
      await this.resources.setStatus(guildId, resourceId, meaning.resourceStatus, { lastError: meaning.resourceError });
    } catch (error) {
      this.#logger.error({ err: error, resourceId }, 'could not record the resource outcome');
    }
  }
}
