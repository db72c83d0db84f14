/** Time as epoch milliseconds. Injected everywhere time matters so tests drive expiry without sleeping. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
