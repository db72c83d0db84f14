import { positional } from './argv.js';

/** `show -json <plan file>`: the saved plan as one JSON document. */
export interface ShowOptions {
  planFile: string;
}

export function showArgs(options: ShowOptions): string[] {
  return ['show', '-json', '-no-color', positional('planFile', options.planFile)];
}
