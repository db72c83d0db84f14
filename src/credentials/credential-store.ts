/**
 * Named cloud credentials a guild stores, encrypted at rest with AES-256-GCM under the configured master key.
 * Every query is scoped by guild id; the ciphertext is also bound to its guild, name, provider and endpoint, so a
 * row moved by hand into another guild cannot be decrypted there. The rows are credential-repository.ts's, on the
 * dialect the DataAccess runs; sealing, and never letting a secret out, are this class's.
 */
import { UnitOfWork, type DataAccess } from '../db/data-access.js';
import type { CredentialProvider } from '../db/schema.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { isUserError } from '../shared/errors.js';
import { credentialNameSchema, credentialProviderSchema, parseCredentialLocation, parseField, snowflakeSchema } from './details.js';
import { CredentialNameTaken, CredentialNotFound, CredentialProviderMismatch, CredentialUnreadable } from './errors.js';
import type { MasterKeyring } from './master-keys.js';
import { keyIdHint, parseProviderSecrets, toSecretRecord } from './secrets.js';
import { seal, unseal, type Sealed } from './sealing.js';
import { settingsIn, withSettings, type CredentialSettings } from './credential-settings.js';
import { credentialRepositoryFor, type CredentialRepository, type SealedColumns } from './credential-repository.js';
import {
  bindingOf,
  isUniqueViolation,
  toMetadata,
  type CreateCredentialInput,
  type CredentialMetadata,
  type CredentialRow,
  type RevealedCredential,
  type RotationReport,
  type UpdateCredentialInput,
} from './credential-rows.js';

export type { CredentialMetadata, CreateCredentialInput, UpdateCredentialInput, RevealedCredential, RotationReport } from './credential-rows.js';

const sealedColumns = (sealed: Sealed, masterKeyId: string): SealedColumns => ({
  ciphertext: sealed.ciphertext,
  iv: sealed.iv,
  auth_tag: sealed.authTag,
  master_key_id: masterKeyId,
});

export class CredentialStore {
  readonly #units: UnitOfWork<CredentialRepository>;

  constructor(
    data: DataAccess,
    private readonly keyring: MasterKeyring,
    private readonly clock: Clock = systemClock,
  ) {
    this.#units = new UnitOfWork(data, credentialRepositoryFor);
  }

  get #rows(): CredentialRepository {
    return this.#units.outside;
  }

  /** Validates, encrypts and stores a credential. Throws if the name is taken among the guild's live credentials. */
  async create(input: CreateCredentialInput): Promise<CredentialMetadata> {
    const guildId = parseField(snowflakeSchema, 'server id', input.guildId);
    const createdBy = parseField(snowflakeSchema, 'member id', input.createdBy);
    const name = parseField(credentialNameSchema, 'name', input.name);
    const provider = parseField(credentialProviderSchema, 'provider', input.provider);
    const { region, endpoint } = parseCredentialLocation(provider, input.region, input.endpoint);
    const secrets = toSecretRecord(parseProviderSecrets(provider, input.secrets));
    const masterKey = this.keyring.current();
    const sealed = seal(masterKey.key, Buffer.from(JSON.stringify(secrets), 'utf8'), { guildId, name, provider, endpoint });
    const now = this.clock.now();
    try {
      return await this.#units.transaction(async (rows) => {
        if ((await rows.liveByName(guildId, name)) !== undefined) throw new CredentialNameTaken(name);
        if (input.makeDefault === true) await rows.clearDefaults(guildId, provider);
        const row = await rows.insert({
          guild_id: guildId,
          name,
          provider,
          region,
          endpoint,
          key_id_hint: keyIdHint(provider, secrets),
          ...sealedColumns(sealed, masterKey.id),
          is_default: input.makeDefault === true,
          created_by: createdBy,
          created_at: now,
        });
        return toMetadata(row);
      });
    } catch (error) {
      // Another process may have inserted the same name between our check and insert.
      if (isUniqueViolation(error)) throw new CredentialNameTaken(name);
      throw error;
    }
  }

  /** The guild's live credentials, metadata only, by name. */
  async list(guildId: string): Promise<CredentialMetadata[]> {
    return (await this.#rows.listLive(guildId)).map(toMetadata);
  }

  /** Metadata of one live credential, or undefined. */
  async find(guildId: string, name: string): Promise<CredentialMetadata | undefined> {
    const row = await this.#liveRow(this.#rows, guildId, name);
    return row === undefined ? undefined : toMetadata(row);
  }

  /**
   * A live credential of this guild for one of `providers`, for a command that names it. `purpose` names what is
   * needed in the refusal ("a <purpose> credential").
   * @throws CredentialNotFound (also for another guild's name), CredentialProviderMismatch.
   */
  async requireFor(guildId: string, name: string, providers: readonly CredentialProvider[], purpose = providers.join(' or ')): Promise<CredentialMetadata> {
    const credential = await this.find(guildId, name);
    if (credential === undefined) throw new CredentialNotFound(name);
    if (!providers.includes(credential.provider)) throw new CredentialProviderMismatch(credential.name, credential.provider, purpose);
    return credential;
  }

  /** The guild's default credential for a provider, if one is set. */
  async getDefault(guildId: string, provider: CredentialProvider): Promise<CredentialMetadata | undefined> {
    const row = await this.#rows.liveDefault(guildId, provider);
    return row === undefined ? undefined : toMetadata(row);
  }

  /**
   * Soft-deletes: the row stays for the audit trail, but it is unusable at once and its ciphertext is erased,
   * so nothing decryptable is kept for a credential nobody may use: not in the row, nor (on SQLite) in free pages
   * (secure_delete) nor in the WAL (checkpointed).
   */
  async remove(guildId: string, name: string): Promise<CredentialMetadata> {
    const row = await this.#requireLiveRow(this.#rows, guildId, name);
    await this.#rows.erase(row.id, this.clock.now());
    await this.#rows.afterErasure();
    return { ...toMetadata(row), isDefault: false };
  }

  /**
   * Replaces a live credential's secret, region or endpoint in place (same id, so projects using it keep it), under
   * the current master key. The row is rewritten in one statement; the old ciphertext is overwritten and, as on
   * removal, erased where the database lets the bot. Changing only the region or endpoint re-seals the old secret,
   * since the endpoint is part of what the ciphertext is bound to.
   * @throws CredentialNotFound (also for another guild's, or one removed meanwhile), InvalidCredentialInput,
   *   InvalidCredentialSecrets, CredentialUnreadable (old secret kept, nothing new given, old one unreadable).
   */
  async update(guildId: string, name: string, input: UpdateCredentialInput): Promise<CredentialMetadata> {
    const before = await this.#requireLiveRow(this.#rows, guildId, name);
    const { region, endpoint } = parseCredentialLocation(
      before.provider,
      input.region === undefined ? before.region : input.region,
      input.endpoint === undefined ? before.endpoint : input.endpoint,
    );
    const secrets = input.secrets === undefined ? this.decrypt(before) : toSecretRecord(parseProviderSecrets(before.provider, input.secrets));
    // The settings (a bucket allow-list) are sealed with the secret: a new secret keeps them.
    const settings = settingsIn(JSON.parse(this.decryptRaw(before).toString('utf8')));
    const masterKey = this.keyring.current();
    const sealed = seal(masterKey.key, Buffer.from(JSON.stringify(withSettings(secrets, settings)), 'utf8'), { ...bindingOf(before), endpoint });
    // Only the row read above, still live: a removal in between must not be undone by this write.
    const updated = await this.#rows.rewrite(before.id, { region, endpoint, key_id_hint: keyIdHint(before.provider, secrets), ...sealedColumns(sealed, masterKey.id) });
    if (updated === undefined) throw new CredentialNotFound(before.name);
    await this.#rows.afterErasure();
    return toMetadata(updated);
  }

  /** Makes this credential the guild's only default for its provider. */
  async setDefault(guildId: string, name: string): Promise<CredentialMetadata> {
    return this.#units.transaction(async (rows) => {
      const row = await this.#requireLiveRow(rows, guildId, name);
      await rows.clearDefaults(row.guild_id, row.provider, row.id);
      await rows.makeDefault(row.id);
      return { ...toMetadata(row), isDefault: true };
    });
  }

  /**
   * Decrypts a credential for a run (never for display) and records that it was used.
   * Throws CredentialUnreadable rather than ever returning garbage.
   */
  async reveal(guildId: string, name: string): Promise<RevealedCredential> {
    return this.#reveal(await this.#requireLiveRow(this.#rows, guildId, name));
  }

  /** As reveal, by row id (projects reference their credential by id); still scoped to the guild. */
  async revealById(guildId: string, id: number): Promise<RevealedCredential> {
    const row = await this.#rows.liveById(guildId, id);
    if (row === undefined) throw new CredentialNotFound(`#${id}`);
    return this.#reveal(row);
  }

  /** The credential's non-secret settings (./credential-settings.ts); they are sealed with its secret. */
  async settings(guildId: string, name: string): Promise<CredentialSettings> {
    return settingsIn(JSON.parse(this.decryptRaw(await this.#requireLiveRow(this.#rows, guildId, name)).toString('utf8')));
  }

  /** Replaces the settings; re-seals only if the row is unchanged since it was read (a concurrent edit wins). */
  async updateSettings(guildId: string, name: string, settings: CredentialSettings): Promise<CredentialMetadata> {
    return this.#units.transaction(async (rows) => {
      const row = await this.#requireLiveRow(rows, guildId, name);
      const payload = JSON.parse(this.decryptRaw(row).toString('utf8')) as Record<string, unknown>;
      const current = this.keyring.current();
      const sealed = seal(current.key, Buffer.from(JSON.stringify(withSettings(payload, settings)), 'utf8'), bindingOf(row));
      await rows.rewrite(row.id, sealedColumns(sealed, current.id));
      return toMetadata(row);
    });
  }

  /**
   * Re-encrypts every live row not under the current master key. Each row is its own short transaction that only
   * writes if the row is unchanged, so runs keep reading and using credentials (old rows with the previous key, new
   * rows with the current one) while this proceeds, no row lock is held over more than one row, and two rotations at
   * once do no harm. A rotation cut short leaves every row readable (under one key or the other); run it again.
   * With `guildId`, only that guild's rows (what a guild admin may do); without, every guild's (the operator's job).
   */
  async rotate(guildId?: string): Promise<RotationReport> {
    const current = this.keyring.current();
    const pending = await this.#rows.idsToRotate(current.id, guildId);
    const report: RotationReport = { reencrypted: 0, unreadable: [] };
    for (const id of pending) {
      await this.#units.transaction(async (rows) => {
        const row = await rows.liveOfAnyGuild(id);
        if (row === undefined || row.master_key_id === current.id) return;
        let plaintext: Buffer;
        try {
          plaintext = this.decryptRaw(row);
        } catch (error) {
          if (!isUserError(error)) throw error;
          report.unreadable.push({ id: row.id, guildId: row.guild_id, name: row.name, masterKeyId: row.master_key_id });
          return;
        }
        report.reencrypted += await rows.resealIfUnder(row.id, row.master_key_id, sealedColumns(seal(current.key, plaintext, bindingOf(row)), current.id));
      });
    }
    // The ciphertext under the old key must not outlive the rotation in the WAL.
    if (report.reencrypted > 0) await this.#rows.afterErasure();
    return report;
  }

  async #reveal(row: CredentialRow): Promise<RevealedCredential> {
    const secrets = this.decrypt(row);
    const now = this.clock.now();
    await this.#rows.markUsed(row.id, now);
    return { metadata: { ...toMetadata(row), lastUsedAt: now }, secrets };
  }

  async #liveRow(rows: CredentialRepository, guildId: string, name: string): Promise<CredentialRow | undefined> {
    const normalised = credentialNameSchema.safeParse(name);
    if (!normalised.success) return undefined;
    return rows.liveByName(guildId, normalised.data);
  }

  async #requireLiveRow(rows: CredentialRepository, guildId: string, name: string): Promise<CredentialRow> {
    const row = await this.#liveRow(rows, guildId, name);
    if (row === undefined) throw new CredentialNotFound(name);
    return row;
  }

  private decryptRaw(row: CredentialRow): Buffer {
    const key = this.keyring.find(row.master_key_id);
    if (key === undefined) {
      throw new CredentialUnreadable(
        row.name,
        `it was encrypted with master key '${row.master_key_id}', which is no longer configured (add it to CREDENTIALS_PREVIOUS_MASTER_KEYS)`,
      );
    }
    const plaintext = unseal(key, { ciphertext: row.ciphertext, iv: row.iv, authTag: row.auth_tag }, bindingOf(row));
    if (plaintext === undefined) {
      throw new CredentialUnreadable(
        row.name,
        `master key '${row.master_key_id}' does not open it (the key is wrong, or the stored data was altered or moved)`,
      );
    }
    return plaintext;
  }

  private decrypt(row: CredentialRow): Record<string, string> {
    const plaintext = this.decryptRaw(row);
    let parsed: unknown;
    try {
      parsed = JSON.parse(plaintext.toString('utf8'));
      return toSecretRecord(parseProviderSecrets(row.provider, parsed));
    } catch {
      throw new CredentialUnreadable(row.name, `its decrypted content is not a valid ${row.provider} credential`);
    }
  }
}
