import { positional } from './argv.js';

/** `apply -json <plan file>`: applies exactly a saved plan (no new plan, so no approval prompt). */
export interface ApplyOptions {
  planFile: string;
}

export function applyArgs(options: ApplyOptions): string[] {
  return ['apply', '-input=false', '-no-color', '-json', positional('planFile', options.planFile)];
}
