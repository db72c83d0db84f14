/** `init`: prepares the workspace (providers, backend). Never prompts. */
export type InitOptions = Record<string, never>;

export function initArgs(_options: InitOptions = {}): string[] {
  return ['init', '-input=false', '-no-color'];
}
