/**
 * Budget and instance slots promised to deployments between their policy check at Apply and the end of their run.
 * Without them, two deployments checked a moment apart could both fit a budget only one of them fits. They are
 * `budget_holds` rows, not memory, because the two deployments may be pressed in two processes (two shards, two
 * machines) on one database: the check and the hold are one unit of work (`reserveIfAllowed`), run alone for the
 * guild (src/db/guild-lock.ts: SQLite's BEGIN IMMEDIATE takes the write lock; PostgreSQL's takes an advisory lock on
 * the guild), so the second check waits for the first hold and counts it.
 *
 * A hold is released when its run ends, either way. A holder that crashed cannot release it, so every hold is a
 * lease (src/shared/leases.ts): its process's heartbeat renews it while the process lives, and it stops counting
 * LEASE_MS after the last beat. By then the crashed run is over, and its resource counts on its own if it reached
 * the cloud (applying, failed and interrupted resources are in the guild's footprint).
 */
import { UnitOfWork, type DataAccess } from '../db/data-access.js';
import { serialiseGuild } from '../db/guild-lock.js';
import type { Reserved } from '../policy/policy-service.js';
import type { Clock } from '../shared/clock.js';
import { LEASE_MS, type LeaseRenewer } from '../shared/leases.js';
import { budgetHoldsFor, type BudgetHolds } from './budget-holds.js';

/** A deployment's share: its monthly estimate, and its compute instances. */
export interface Hold {
  monthlyUsd: number;
  vms: number;
}

/** What a policy check answers, as far as a hold needs it. */
interface Decision {
  allowed: boolean;
  estimate: { monthlyUsd: number };
  vms: number;
}

/** Gives the hold back. Never rejects: a release that fails is retried at the next heartbeat. */
export type ReleaseHold = () => Promise<void>;

export class BudgetReservations implements LeaseRenewer {
  readonly #data: DataAccess;
  readonly #holds: UnitOfWork<BudgetHolds>;
  /** Holds whose release failed (the database busy past its timeout): retried at each beat, never renewed. */
  readonly #unreleased = new Map<string, { guildId: string; resourceId: number }>();

  constructor(
    data: DataAccess,
    private readonly clock: Clock,
    /** This process (processOwnerId): its heartbeat renews its own holds only. */
    readonly owner: string,
  ) {
    this.#data = data;
    this.#holds = new UnitOfWork(data, budgetHoldsFor);
  }

  /** What this guild has promised and not yet spent, in every process (expired holds count for nothing). */
  async reservedFor(guildId: string): Promise<Reserved> {
    return this.#holds.current.reserved(guildId, this.clock.now());
  }

  /**
   * Runs `check` against what is reserved now and, when it allows, holds the resource's share, in one unit of work
   * that runs alone for the guild, so two processes cannot both fit one budget. `check`'s own reads (the policy, the
   * guild's totals) run in it too (DataAccess.current); it must not wait for anything but the database.
   * `release` is there when the hold was taken: call it once the run has ended, either way.
   */
  async reserveIfAllowed<D extends Decision>(
    guildId: string,
    resourceId: number,
    check: (reserved: Reserved) => D | Promise<D>,
  ): Promise<{ decision: D; release?: ReleaseHold }> {
    const held = await this.#data.transaction(async (session) => {
      await serialiseGuild(session, 'budget', guildId);
      const decision = await check(await this.reservedFor(guildId));
      if (!decision.allowed) return { decision, held: false };
      await this.#put(guildId, resourceId, { monthlyUsd: decision.estimate.monthlyUsd, vms: decision.vms });
      return { decision, held: true };
    });
    return held.held ? { decision: held.decision, release: this.#releaser(guildId, resourceId) } : { decision: held.decision };
  }

  /** Holds a resource's share until the returned release is called. Only after a check: see reserveIfAllowed. */
  async hold(guildId: string, resourceId: number, hold: Hold): Promise<ReleaseHold> {
    await this.#put(guildId, resourceId, hold);
    return this.#releaser(guildId, resourceId);
  }

  async renewOwn(expiresAt: number): Promise<number> {
    // First what could not be released: a database that takes the renewal takes the release too.
    for (const { guildId, resourceId } of [...this.#unreleased.values()]) await this.#release(guildId, resourceId);
    return this.#holds.current.renew(this.owner, expiresAt);
  }

  async #put(guildId: string, resourceId: number, hold: Hold): Promise<void> {
    await this.#holds.current.put(guildId, resourceId, { monthly_usd: hold.monthlyUsd, vms: hold.vms, owner: this.owner, expires_at: this.clock.now() + LEASE_MS });
  }

  #releaser(guildId: string, resourceId: number): ReleaseHold {
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      await this.#release(guildId, resourceId);
    };
  }

  async #release(guildId: string, resourceId: number): Promise<void> {
    const key = `${guildId}/${resourceId}`;
    try {
      await this.#holds.current.remove(guildId, resourceId, this.owner);
      this.#unreleased.delete(key);
    } catch {
      this.#unreleased.set(key, { guildId, resourceId });
    }
  }
}
