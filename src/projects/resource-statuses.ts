/**
 * What each resource status means, in one place: the moves allowed between them, and the lists every module asks
 * about (what may exist in the cloud, what can be planned, what can be destroyed).
 */
import type { ResourceStatus } from '../db/schema.js';

/**
 * Allowed moves. planned → applying → active | failed; active | failed → destroying → destroyed | failed;
 * a run cut short (applying, destroying) → interrupted; an interrupted resource may be applied or destroyed again.
 */
export const STATUS_TRANSITIONS: Readonly<Record<ResourceStatus, readonly ResourceStatus[]>> = {
  // A plan nobody applies (Cancel, timeout, rejection) is discarded straight to destroyed: nothing was created.
  planned: ['applying', 'destroyed'],
  applying: ['active', 'failed', 'interrupted'],
  active: ['destroying'],
  failed: ['destroying'],
  destroying: ['destroyed', 'failed', 'interrupted'],
  destroyed: [],
  interrupted: ['applying', 'destroying'],
};

/**
 * Statuses whose cloud objects may exist: a run under way, a finished one, and every run that stopped part-way
 * (a failed or cancelled apply may have created some of its objects; a failed or interrupted destroy may have
 * removed only some). Only planned (nothing created yet) and destroyed are known to be absent. The one list both for
 * what the generated configuration keeps (so nothing is silently deleted) and for what counts against the guild's
 * budget and instance limits (so a failed or cancelled apply cannot be repeated to get around them).
 */
export const MAY_EXIST_IN_CLOUD: readonly ResourceStatus[] = ['applying', 'active', 'failed', 'destroying', 'interrupted'];

/** A resource that can be planned: a new one, or one a run cut short (planned again from where it stands). */
export const PLANNABLE: readonly ResourceStatus[] = ['planned', 'interrupted'];

/** A resource that can be destroyed: anything that may exist in the cloud and has no run under way. */
export const DESTROYABLE: readonly ResourceStatus[] = ['active', 'failed', 'interrupted'];

/** Of MAY_EXIST_IN_CLOUD, what runs that stopped part-way leave: named in a refusal, as members may have forgotten them. */
export const LEFT_BY_STOPPED_RUNS: readonly ResourceStatus[] = ['failed', 'interrupted', 'destroying'];
