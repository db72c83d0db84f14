import { positional } from './argv.js';

/** `plan -json -out=<file>`: streams events and saves the plan for a later `apply`. */
export interface PlanOptions {
  /** The plan file to write, relative to the workspace. */
  out: string;
}

export function planArgs(options: PlanOptions): string[] {
  return ['plan', '-input=false', '-no-color', '-json', `-out=${positional('out', options.out)}`];
}
