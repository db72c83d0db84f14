/** `version -json`: the engine's version and platform (engine discovery). */
export type VersionOptions = Record<string, never>;

export function versionArgs(_options: VersionOptions = {}): string[] {
  return ['version', '-json'];
}
