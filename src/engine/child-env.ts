import { mkdirSync } from 'node:fs';

/**
 * Prefixes a run's credential variables may have. Anything else (PATH, HOME, TF_CLI_ARGS, NODE_OPTIONS, LD_PRELOAD...)
 * could change what the engine runs or how, so it is refused even though our own code builds these maps.
 */
const CREDENTIAL_PREFIXES = ['TF_VAR_', 'AWS_', 'GOOGLE_', 'ARM_'] as const;
/** Terraform variable names may hold dashes (a template's `db-password` comes as `TF_VAR_db-password`). */
const NAME_PATTERN = /^(TF_VAR_[A-Za-z_][A-Za-z0-9_-]*|[A-Z][A-Z0-9_]*)$/;

export interface BaseEnvOptions {
  /** PATH for the child (the bot's own, unless a test says otherwise): providers may need helpers from it. */
  pathEnv: string;
  /**
   * HOME for the child. Runs use a folder of their own inside the workspace so the engine never reads the bot
   * host's ~/.terraformrc, ~/.aws or ~/.config/gcloud, which would hand one guild the host's (or another's) access.
   */
  home?: string;
}

/** The variables every engine process gets, and nothing else. */
export function baseChildEnv(options: BaseEnvOptions): Record<string, string> {
  const env: Record<string, string> = {
    PATH: options.pathEnv,
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    // No call home to HashiCorp's checkpoint service on every command.
    CHECKPOINT_DISABLE: '1',
  };
  if (options.home) env.HOME = options.home;
  return env;
}

export interface ChildEnvOptions extends BaseEnvOptions {
  home: string;
  /** Shared provider cache; created if missing. Providers are public binaries, so sharing it across guilds is safe. */
  pluginCacheDir: string;
  /** The run's credentials, from `toEngineEnv` (and backend credentials). */
  credentialEnv: Record<string, string>;
}

/**
 * The complete environment of an engine run, built from nothing: callers pass it with execa's `extendEnv: false`,
 * so the bot's own secrets (DISCORD_TOKEN, CREDENTIALS_MASTER_KEY, ...) can never reach the child.
 */
export function buildChildEnv(options: ChildEnvOptions): Record<string, string> {
  mkdirSync(options.pluginCacheDir, { recursive: true, mode: 0o700 });
  mkdirSync(options.home, { recursive: true, mode: 0o700 });
  const env: Record<string, string> = { ...baseChildEnv(options), TF_PLUGIN_CACHE_DIR: options.pluginCacheDir };
  for (const [name, value] of Object.entries(options.credentialEnv)) {
    assertCredentialVariable(name, value);
    env[name] = value;
  }
  return env;
}

function assertCredentialVariable(name: string, value: unknown): void {
  if (!NAME_PATTERN.test(name) || !CREDENTIAL_PREFIXES.some((prefix) => name.startsWith(prefix))) {
    // A bug in our code, not user input: the name is safe to show, the value is never shown.
    throw new TypeError(`credential variable ${JSON.stringify(name)} is not allowed in an engine environment`);
  }
  if (typeof value !== 'string' || value.includes('\0')) throw new TypeError(`credential variable ${name} must be a string without NUL`);
}
