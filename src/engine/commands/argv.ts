/**
 * Shared checks for the argv builders in this folder (one file per engine command, as hashicorp/terraform-exec
 * does). A value placed in argv never starts with `-`, so no value can be read by the engine as a flag.
 */
export function positional(name: string, value: string): string {
  if (value.length === 0 || value.startsWith('-')) throw new RangeError(`${name} must not be empty or start with "-"`);
  return value;
}
