/** How the console waits for a form or a button press to time out; tests inject a hand-driven one. */
export interface Timers {
  /** Calls `fire` after `ms` unless cancelled first. */
  schedule(ms: number, fire: () => void): { cancel(): void };
}

export const realTimers: Timers = {
  schedule(ms, fire) {
    const handle = setTimeout(fire, ms);
    // A pending offer must not keep the process alive once the console has been left.
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};
