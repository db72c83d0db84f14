import { positional } from './argv.js';

/** `apply -json <plan file>`: applies exactly a saved plan (no new plan, so no approval prompt). */
export interface ApplyOptions {
  planFile: string;
}

export function applyArgs(options: ApplyOptions): string[] {
  return ['apply', '-input=false', '-no-color', '-json', positional('planFile', options.planFile)];
}

/** `apply -refresh-only -auto-approve -json`: the cloud's current values become the state's; the cloud is not touched. */
export function refreshStateArgs(): string[] {
  return ['apply', '-input=false', '-no-color', '-json', '-refresh-only', '-auto-approve'];
}
