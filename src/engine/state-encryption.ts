/**
 * Client-side state and plan encryption at rest (OpenTofu ≥ 1.7). A real engine writes the provider's project id
 * and every other variable into plan files and state in plain text; with OpenTofu the bot hands the engine an
 * `encryption` configuration in `TF_ENCRYPTION` (PBKDF2 key provider, AES-GCM method, for `state` and `plan`).
 *
 * The passphrase must outlive restarts and vault expiry (state encrypted with a key that is gone is lost), so it is
 * derived with HKDF from the operator's CREDENTIALS_MASTER_KEY and the guild id + project id: stable for a project,
 * different for every project, never stored. It reaches the engine only through the child's environment.
 *
 * Rotation: every configured master key (current first, then CREDENTIALS_PREVIOUS_MASTER_KEYS) becomes a key
 * provider, chained as `fallback`s, so OpenTofu reads state written under an old key and writes it under the current
 * one. Key provider names carry the key id, as OpenTofu records them in the encrypted file.
 *
 * Terraform (and older OpenTofu) has no client-side encryption: runs go ahead unencrypted and the member is told
 * when the state stays on the bot host.
 */
import { hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineName, StateBackendKind } from '../db/schema.js';
import type { MasterKey } from '../credentials/master-keys.js';
import { UserError } from '../shared/errors.js';
import { command, text, toText, type RichText } from '../shared/text.js';
import { engineLabel } from './errors.js';
import type { Warning } from './run-types.js';

const HKDF_SALT = 'cloud-chatops/state-encryption/v1';
const LOCAL_STATE_FILE = 'terraform.tfstate';
const MIGRATION_METHOD = 'chatops_migrate';
const KEY_PROVIDER_PREFIX = 'key_provider.pbkdf2.';

export interface StateEncryptionInput {
  engine: { name: EngineName; version: string };
  /** Master keys, the current one first; empty when CREDENTIALS_MASTER_KEY is not set. */
  keys: readonly MasterKey[];
  guildId: string;
  projectId: number;
  stateBackend: StateBackendKind;
  workspace: string;
}

export interface StateEncryption {
  /** Variables for the child's environment (TF_ENCRYPTION, or none). */
  env: Record<string, string>;
  /** Values to redact from anything the engine prints (the passphrases, the whole configuration). */
  secrets: string[];
  /** For the member, with the run's result. */
  warnings: Warning[];
}

/** OpenTofu 1.7.0 (final) and later; its pre-releases used another syntax. */
export function supportsStateEncryption(engine: { name: EngineName; version: string }): boolean {
  if (engine.name !== 'tofu') return false;
  const match = /^v?(\d+)\.(\d+)\.(\d+)(-\S+)?$/.exec(engine.version.trim());
  if (!match) return false;
  const [major, minor, patch] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (major !== 1) return major > 1;
  if (minor !== 7) return minor > 7;
  return match[4] === undefined || patch > 0;
}

/** The project's passphrase under one master key: 64 hex characters, stable, different per guild and project. */
export function derivePassphrase(masterKey: Buffer, guildId: string, projectId: number): string {
  const info = `guild:${guildId}/project:${projectId}`;
  return Buffer.from(hkdfSync('sha256', masterKey, HKDF_SALT, info, 32)).toString('hex');
}

/** The key provider (and method) name for a master key id: `chatops_<hex of the id>`, a valid HCL identifier. */
export function keyProviderName(keyId: string): string {
  return `chatops_${Buffer.from(keyId, 'utf8').toString('hex')}`;
}

/**
 * What a run with this engine gets: TF_ENCRYPTION, or warnings for the member.
 * @throws StateUnreadable when the project's local state is encrypted but this run could not decrypt it.
 */
export function stateEncryptionFor(input: StateEncryptionInput): StateEncryption {
  const local = input.stateBackend === 'local' ? inspectLocalState(input.workspace) : { kind: 'unknown' as const };
  if (!supportsStateEncryption(input.engine)) {
    if (local.kind === 'encrypted') {
      throw new StateUnreadable(
        `it is encrypted with OpenTofu state encryption and ${engineLabel(input.engine.name)} ${input.engine.version} cannot read it`,
        text`Install OpenTofu 1.7 or later on the bot host (and make it the server’s engine with ${command('policy', { action: 'update', engine: 'tofu' })}), then try again.`,
      );
    }
    const warnings: Warning[] =
      input.stateBackend === 'local'
        ? [
            {
              summary: 'State is stored unencrypted on the bot host.',
              detail: `${engineLabel(input.engine.name)} ${input.engine.version} cannot encrypt state or plan files, which hold this project's settings (such as its cloud project id) in plain text. Use OpenTofu 1.7 or later, or a remote state backend.`,
            },
          ]
        : [];
    return { env: {}, secrets: [], warnings };
  }
  if (input.keys.length === 0) {
    if (local.kind === 'encrypted') {
      throw new StateUnreadable(
        'it is encrypted with a key derived from the bot’s master key, and no master key is configured now',
        'Ask the bot operator to restore CREDENTIALS_MASTER_KEY (the same value as before), then try again.',
      );
    }
    return {
      env: {},
      secrets: [],
      warnings: [
        {
          summary: 'State and plan files are not encrypted.',
          detail: 'OpenTofu could encrypt them, but the bot operator has not set CREDENTIALS_MASTER_KEY, so this project’s state and plans are stored in plain text.',
        },
      ],
    };
  }
  if (local.kind === 'encrypted') {
    const configured = new Set(input.keys.map((key) => keyProviderName(key.id)));
    if (!local.keyProviders.some((name) => configured.has(name))) {
      throw new StateUnreadable(
        'it is encrypted with a master key that is no longer configured',
        'Ask the bot operator to put the old key back in CREDENTIALS_PREVIOUS_MASTER_KEYS (with its old id), then try again.',
      );
    }
  }
  const passphrases = input.keys.map((key) => ({ name: keyProviderName(key.id), passphrase: derivePassphrase(key.key, input.guildId, input.projectId) }));
  // Plain state must still be readable once, to be rewritten encrypted: a local project planned before encryption
  // was on, or any remote backend (whose state this bot cannot look at cheaply).
  const readPlain = local.kind === 'plain' || local.kind === 'unknown';
  const config = encryptionConfig(passphrases, readPlain);
  // The passphrases are the only secret in the block; the rest (key ids, method names) is redacted with them gone.
  return { env: { TF_ENCRYPTION: config }, secrets: passphrases.map((p) => p.passphrase), warnings: [] };
}

/**
 * The `TF_ENCRYPTION` value: the body of a `terraform { encryption { … } }` block in HCL. Names and passphrases are
 * `[a-z0-9_]`/hex only, so nothing needs escaping.
 */
export function encryptionConfig(keys: ReadonlyArray<{ name: string; passphrase: string }>, readPlain: boolean): string {
  const lines: string[] = [];
  for (const { name, passphrase } of keys) {
    lines.push(`key_provider "pbkdf2" "${name}" {`, `  passphrase = "${passphrase}"`, '}');
    lines.push(`method "aes_gcm" "${name}" {`, `  keys = key_provider.pbkdf2.${name}`, '}');
  }
  if (readPlain) lines.push(`method "unencrypted" "${MIGRATION_METHOD}" {}`);
  const chain = [...keys.map((k) => `method.aes_gcm.${k.name}`), ...(readPlain ? [`method.unencrypted.${MIGRATION_METHOD}`] : [])];
  for (const target of ['state', 'plan']) {
    lines.push(`${target} {`);
    // Enforced refuses to ever write plain text; OpenTofu forbids it while an unencrypted fallback is listed.
    if (!readPlain) lines.push('  enforced = true');
    lines.push(...targetChain(chain, 1), '}');
  }
  return `${lines.join('\n')}\n`;
}

/** `method = first` then each further method in a nested `fallback` block. */
function targetChain(methods: readonly string[], depth: number): string[] {
  const [first, ...rest] = methods;
  const indent = '  '.repeat(depth);
  const lines = [`${indent}method = ${first}`];
  if (rest.length > 0) lines.push(`${indent}fallback {`, ...targetChain(rest, depth + 1), `${indent}}`);
  return lines;
}

type LocalState = { kind: 'absent' } | { kind: 'plain' } | { kind: 'unknown' } | { kind: 'encrypted'; keyProviders: string[] };

/** Whether the workspace's local state is missing, plain, or an OpenTofu encrypted payload (and under which keys). */
export function inspectLocalState(workspace: string): LocalState {
  let text: string;
  try {
    text = readFileSync(join(workspace, LOCAL_STATE_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'unknown' };
  }
  if (!parsed || typeof parsed !== 'object') return { kind: 'unknown' };
  const payload = parsed as { encryption_version?: unknown; meta?: unknown };
  if (typeof payload.encryption_version !== 'string' || payload.encryption_version === '') return { kind: 'plain' };
  const meta = payload.meta && typeof payload.meta === 'object' ? Object.keys(payload.meta) : [];
  return { kind: 'encrypted', keyProviders: meta.filter((k) => k.startsWith(KEY_PROVIDER_PREFIX)).map((k) => k.slice(KEY_PROVIDER_PREFIX.length)) };
}

/** The project's state is encrypted and this run could not read it. Nothing was run. */
export class StateUnreadable extends UserError {
  constructor(why: string, what: RichText) {
    super('engine.state_unreadable', text`This project's state cannot be read: ${why}. Nothing was run. ${toText(what)}`);
  }
}
