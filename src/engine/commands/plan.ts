import { positional } from './argv.js';

/** `plan -json -out=<file>`: streams events and saves the plan for a later `apply`. */
export interface PlanOptions {
  /** The plan file to write, relative to the workspace. */
  out: string;
  /** Only compare the state with the cloud (`-refresh-only`): what changed outside the engine, nothing to make. */
  refreshOnly?: boolean;
  /** Exit 2 when the plan has changes (0: none, 1: error), so drift is told apart from a clean check. */
  detailedExitcode?: boolean;
}

export function planArgs(options: PlanOptions): string[] {
  return [
    'plan',
    '-input=false',
    '-no-color',
    '-json',
    ...(options.refreshOnly ? ['-refresh-only'] : []),
    ...(options.detailedExitcode ? ['-detailed-exitcode'] : []),
    `-out=${positional('out', options.out)}`,
  ];
}
