/** `output -json`: every output of the state as one JSON document. */
export type OutputOptions = Record<string, never>;

export function outputArgs(_options: OutputOptions = {}): string[] {
  return ['output', '-json', '-no-color'];
}
