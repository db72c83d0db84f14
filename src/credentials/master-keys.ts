/**
 * The master keys that encrypt stored credentials. One current key encrypts; previous keys, looked up by the id
 * each row records, still decrypt, so an operator rotates by: add a new current key, move the old one to
 * CREDENTIALS_PREVIOUS_MASTER_KEYS, run the re-encrypt command, then drop the old key.
 */
import type { Config } from '../config/index.js';
import { MasterKeyConfigInvalid, MasterKeyMissing } from './errors.js';

export interface MasterKey {
  id: string;
  /** 32 bytes, for AES-256-GCM. */
  key: Buffer;
}

type KeyringConfig = Pick<Config, 'CREDENTIALS_MASTER_KEY' | 'CREDENTIALS_MASTER_KEY_ID' | 'CREDENTIALS_PREVIOUS_MASTER_KEYS'>;

const KEY_ID = /^[A-Za-z0-9._-]{1,32}$/;

function decodeKey(base64: string, where: string): Buffer {
  const trimmed = base64.trim();
  const key = Buffer.from(trimmed, 'base64');
  // Buffer.from ignores junk characters, so also require the text to round-trip.
  if (key.length !== 32 || key.toString('base64').replace(/=+$/, '') !== trimmed.replace(/=+$/, '')) {
    throw new MasterKeyConfigInvalid(`${where} must be 32 random bytes, base64-encoded (openssl rand -base64 32)`);
  }
  return key;
}

/**
 * Parses `id:base64,id:base64`. Messages name the entry's position and id, never the key. `variable` starts each
 * message ("CREDENTIALS_PREVIOUS_MASTER_KEYS entry 2 …"); the configuration check passes '' as it names it itself.
 */
export function parsePreviousMasterKeys(value: string | undefined, variable = 'CREDENTIALS_PREVIOUS_MASTER_KEYS '): MasterKey[] {
  if (value === undefined || value.trim() === '') return [];
  return value.split(',').map((entry, index) => {
    const where = `${variable}entry ${index + 1}`;
    const separator = entry.indexOf(':');
    if (separator < 0) throw new MasterKeyConfigInvalid(`${where} must look like id:base64key`);
    const id = entry.slice(0, separator).trim();
    if (!KEY_ID.test(id)) throw new MasterKeyConfigInvalid(`${where} has an invalid key id (1 to 32 letters, digits, '.', '_' or '-')`);
    return { id, key: decodeKey(entry.slice(separator + 1), `${where} ('${id}')`) };
  });
}

export class MasterKeyring {
  private constructor(
    private readonly currentKey: MasterKey | undefined,
    private readonly byId: ReadonlyMap<string, Buffer>,
  ) {}

  /**
   * Builds the keyring from config. Without CREDENTIALS_MASTER_KEY the keyring exists but refuses every use with
   * MasterKeyMissing, so the bot still starts and ephemeral credentials keep working.
   */
  static fromConfig(config: KeyringConfig): MasterKeyring {
    if (config.CREDENTIALS_MASTER_KEY === undefined) return new MasterKeyring(undefined, new Map());
    const currentId = config.CREDENTIALS_MASTER_KEY_ID;
    if (!KEY_ID.test(currentId)) {
      throw new MasterKeyConfigInvalid("CREDENTIALS_MASTER_KEY_ID must be 1 to 32 letters, digits, '.', '_' or '-'");
    }
    const current: MasterKey = { id: currentId, key: decodeKey(config.CREDENTIALS_MASTER_KEY, 'CREDENTIALS_MASTER_KEY') };
    const byId = new Map<string, Buffer>([[current.id, current.key]]);
    for (const previous of parsePreviousMasterKeys(config.CREDENTIALS_PREVIOUS_MASTER_KEYS)) {
      if (byId.has(previous.id)) {
        throw new MasterKeyConfigInvalid(
          `key id '${previous.id}' appears more than once (a previous key needs an id different from CREDENTIALS_MASTER_KEY_ID)`,
        );
      }
      byId.set(previous.id, previous.key);
    }
    return new MasterKeyring(current, byId);
  }

  /** Whether stored credentials can be used at all. */
  get available(): boolean {
    return this.currentKey !== undefined;
  }

  /** The key new rows are encrypted with. */
  current(): MasterKey {
    if (this.currentKey === undefined) throw new MasterKeyMissing();
    return this.currentKey;
  }

  /** Every configured key, the current one first; empty without CREDENTIALS_MASTER_KEY. (State encryption.) */
  all(): MasterKey[] {
    if (this.currentKey === undefined) return [];
    return [this.currentKey, ...[...this.byId].filter(([id]) => id !== this.currentKey?.id).map(([id, key]) => ({ id, key }))];
  }

  /** The key with this id, or undefined if it is not configured (any more). */
  find(id: string): Buffer | undefined {
    if (this.currentKey === undefined) throw new MasterKeyMissing();
    return this.byId.get(id);
  }
}
