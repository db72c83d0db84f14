import { positional } from './argv.js';

/** `destroy -json -auto-approve`: everything in the state, or only `targets` (resource addresses). */
export interface DestroyOptions {
  /** Addresses to destroy; empty or absent: the whole state. Passed sorted and once each. */
  targets?: readonly string[];
}

export function destroyArgs(options: DestroyOptions = {}): string[] {
  const targets = [...new Set(options.targets ?? [])].sort().map((address) => `-target=${positional('target', address)}`);
  return ['destroy', '-input=false', '-no-color', '-json', '-auto-approve', ...targets];
}
