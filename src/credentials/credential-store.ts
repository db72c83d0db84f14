/**
 * Named cloud credentials a guild stores, encrypted at rest with AES-256-GCM under the configured master key.
 * Every query is scoped by guild id; the ciphertext is also bound to its guild, name, provider and endpoint, so a
 * row moved by hand into another guild cannot be decrypted there.
 */
import { and, eq, isNull, ne } from 'drizzle-orm';
import { checkpointAfterErasure, type Db } from '../db/index.js';
import { cloudCredentials, type CredentialProvider } from '../db/schema.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { isUserError } from '../shared/errors.js';
import { credentialNameSchema, credentialProviderSchema, parseCredentialLocation, parseField, snowflakeSchema } from './details.js';
import { CredentialNameTaken, CredentialNotFound, CredentialProviderMismatch, CredentialUnreadable } from './errors.js';
import type { MasterKeyring } from './master-keys.js';
import { keyIdHint, parseProviderSecrets, toSecretRecord } from './secrets.js';
import { seal, unseal } from './sealing.js';
import { settingsIn, withSettings, type CredentialSettings } from './credential-settings.js';
import {
  bindingOf,
  isUniqueViolation,
  live,
  toMetadata,
  type CreateCredentialInput,
  type CredentialMetadata,
  type CredentialRow,
  type RevealedCredential,
  type RotationReport,
  type UpdateCredentialInput,
} from './credential-rows.js';

export type { CredentialMetadata, CreateCredentialInput, UpdateCredentialInput, RevealedCredential, RotationReport } from './credential-rows.js';

export class CredentialStore {
  constructor(
    private readonly db: Db,
    private readonly keyring: MasterKeyring,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Validates, encrypts and stores a credential. Throws if the name is taken among the guild's live credentials. */
  create(input: CreateCredentialInput): CredentialMetadata {
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
      return this.db.transaction((tx) => {
        const existing = tx
          .select({ id: cloudCredentials.id })
          .from(cloudCredentials)
          .where(and(live(guildId), eq(cloudCredentials.name, name)))
          .get();
        if (existing !== undefined) throw new CredentialNameTaken(name);
        if (input.makeDefault === true) {
          tx.update(cloudCredentials)
            .set({ is_default: false })
            .where(and(live(guildId), eq(cloudCredentials.provider, provider)))
            .run();
        }
        const row = tx
          .insert(cloudCredentials)
          .values({
            guild_id: guildId,
            name,
            provider,
            region,
            endpoint,
            key_id_hint: keyIdHint(provider, secrets),
            ciphertext: sealed.ciphertext,
            iv: sealed.iv,
            auth_tag: sealed.authTag,
            master_key_id: masterKey.id,
            is_default: input.makeDefault === true,
            created_by: createdBy,
            created_at: now,
          })
          .returning()
          .get();
        return toMetadata(row);
      });
    } catch (error) {
      // Another process may have inserted the same name between our check and insert.
      if (isUniqueViolation(error)) throw new CredentialNameTaken(name);
      throw error;
    }
  }

  /** The guild's live credentials, metadata only, by name. */
  list(guildId: string): CredentialMetadata[] {
    return this.db
      .select()
      .from(cloudCredentials)
      .where(live(guildId))
      .orderBy(cloudCredentials.name)
      .all()
      .map(toMetadata);
  }

  /** Metadata of one live credential, or undefined. */
  find(guildId: string, name: string): CredentialMetadata | undefined {
    const row = this.liveRow(guildId, name);
    return row === undefined ? undefined : toMetadata(row);
  }

  /**
   * A live credential of this guild for one of `providers`, for a command that names it. `purpose` names what is
   * needed in the refusal ("a <purpose> credential").
   * @throws CredentialNotFound (also for another guild's name), CredentialProviderMismatch.
   */
  requireFor(guildId: string, name: string, providers: readonly CredentialProvider[], purpose = providers.join(' or ')): CredentialMetadata {
    const credential = this.find(guildId, name);
    if (credential === undefined) throw new CredentialNotFound(name);
    if (!providers.includes(credential.provider)) throw new CredentialProviderMismatch(credential.name, credential.provider, purpose);
    return credential;
  }

  /** The guild's default credential for a provider, if one is set. */
  getDefault(guildId: string, provider: CredentialProvider): CredentialMetadata | undefined {
    const row = this.db
      .select()
      .from(cloudCredentials)
      .where(and(live(guildId), eq(cloudCredentials.provider, provider), eq(cloudCredentials.is_default, true)))
      .get();
    return row === undefined ? undefined : toMetadata(row);
  }

  /**
   * Soft-deletes: the row stays for the audit trail, but it is unusable at once and its ciphertext is erased,
   * so nothing decryptable is kept for a credential nobody may use: not in the row, nor in free pages
   * (secure_delete) nor in the WAL (checkpointed).
   */
  remove(guildId: string, name: string): CredentialMetadata {
    const row = this.requireLiveRow(guildId, name);
    const empty = Buffer.alloc(0);
    this.db
      .update(cloudCredentials)
      .set({ deleted_at: this.clock.now(), is_default: false, ciphertext: empty, iv: empty, auth_tag: empty })
      .where(and(eq(cloudCredentials.id, row.id), isNull(cloudCredentials.deleted_at)))
      .run();
    checkpointAfterErasure(this.db);
    return { ...toMetadata(row), isDefault: false };
  }

  /**
   * Replaces a live credential's secret, region or endpoint in place (same id, so projects using it keep it), under
   * the current master key. The row is rewritten in one transaction; the old ciphertext is overwritten, zeroed in
   * free pages (secure_delete) and checkpointed out of the WAL, as on removal. Changing only the region or endpoint
   * re-seals the old secret, since the endpoint is part of what the ciphertext is bound to.
   * @throws CredentialNotFound (also for another guild's, or one removed meanwhile), InvalidCredentialInput,
   *   InvalidCredentialSecrets, CredentialUnreadable (old secret kept, nothing new given, old one unreadable).
   */
  update(guildId: string, name: string, input: UpdateCredentialInput): CredentialMetadata {
    const before = this.requireLiveRow(guildId, name);
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
    const updated = this.db.transaction((tx) => {
      const row = tx
        .update(cloudCredentials)
        .set({
          region,
          endpoint,
          key_id_hint: keyIdHint(before.provider, secrets),
          ciphertext: sealed.ciphertext,
          iv: sealed.iv,
          auth_tag: sealed.authTag,
          master_key_id: masterKey.id,
        })
        // Only the row read above, still live: a removal in between must not be undone by this write.
        .where(and(eq(cloudCredentials.id, before.id), isNull(cloudCredentials.deleted_at)))
        .returning()
        .get();
      if (row === undefined) throw new CredentialNotFound(before.name);
      return row;
    });
    checkpointAfterErasure(this.db);
    return toMetadata(updated);
  }

  /** Makes this credential the guild's only default for its provider. */
  setDefault(guildId: string, name: string): CredentialMetadata {
    return this.db.transaction((tx) => {
      const row = this.requireLiveRow(guildId, name, tx);
      tx.update(cloudCredentials)
        .set({ is_default: false })
        .where(and(live(row.guild_id), eq(cloudCredentials.provider, row.provider), ne(cloudCredentials.id, row.id)))
        .run();
      tx.update(cloudCredentials).set({ is_default: true }).where(eq(cloudCredentials.id, row.id)).run();
      return { ...toMetadata(row), isDefault: true };
    });
  }

  /**
   * Decrypts a credential for a run (never for display) and records that it was used.
   * Throws CredentialUnreadable rather than ever returning garbage.
   */
  reveal(guildId: string, name: string): RevealedCredential {
    const row = this.requireLiveRow(guildId, name);
    const secrets = this.decrypt(row);
    const now = this.clock.now();
    this.db.update(cloudCredentials).set({ last_used_at: now }).where(eq(cloudCredentials.id, row.id)).run();
    return { metadata: { ...toMetadata(row), lastUsedAt: now }, secrets };
  }

  /** As reveal, by row id (projects reference their credential by id); still scoped to the guild. */
  revealById(guildId: string, id: number): RevealedCredential {
    const row = this.db
      .select()
      .from(cloudCredentials)
      .where(and(live(guildId), eq(cloudCredentials.id, id)))
      .get();
    if (row === undefined) throw new CredentialNotFound(`#${id}`);
    return this.reveal(guildId, row.name);
  }

  /** The credential's non-secret settings (./credential-settings.ts); they are sealed with its secret. */
  settings(guildId: string, name: string): CredentialSettings {
    return settingsIn(JSON.parse(this.decryptRaw(this.requireLiveRow(guildId, name)).toString('utf8')));
  }

  /** Replaces the settings; re-seals only if the row is unchanged since it was read (a concurrent edit wins). */
  updateSettings(guildId: string, name: string, settings: CredentialSettings): CredentialMetadata {
    return this.db.transaction((tx) => {
      const row = this.requireLiveRow(guildId, name, tx);
      const payload = JSON.parse(this.decryptRaw(row).toString('utf8')) as Record<string, unknown>;
      const current = this.keyring.current();
      const sealed = seal(current.key, Buffer.from(JSON.stringify(withSettings(payload, settings)), 'utf8'), bindingOf(row));
      tx.update(cloudCredentials)
        .set({ ciphertext: sealed.ciphertext, iv: sealed.iv, auth_tag: sealed.authTag, master_key_id: current.id })
        .where(and(eq(cloudCredentials.id, row.id), isNull(cloudCredentials.deleted_at)))
        .run();
      return toMetadata(row);
    });
  }

  /**
   * Re-encrypts every live row not under the current master key. Each row is its own short transaction that only
   * writes if the row is unchanged, so runs keep reading credentials (old rows with the previous key, new rows with
   * the current one) while this proceeds, and two rotations at once do no harm.
   * With `guildId`, only that guild's rows (what a guild admin may do); without, every guild's (the operator's job).
   */
  rotate(guildId?: string): RotationReport {
    const current = this.keyring.current();
    const pending = this.db
      .select({ id: cloudCredentials.id })
      .from(cloudCredentials)
      .where(
        and(
          isNull(cloudCredentials.deleted_at),
          ne(cloudCredentials.master_key_id, current.id),
          guildId === undefined ? undefined : eq(cloudCredentials.guild_id, guildId),
        ),
      )
      .all();
    const report: RotationReport = { reencrypted: 0, unreadable: [] };
    for (const { id } of pending) {
      this.db.transaction((tx) => {
        const row = tx
          .select()
          .from(cloudCredentials)
          .where(and(eq(cloudCredentials.id, id), isNull(cloudCredentials.deleted_at)))
          .get();
        if (row === undefined || row.master_key_id === current.id) return;
        let plaintext: Buffer;
        try {
          plaintext = this.decryptRaw(row);
        } catch (error) {
          if (!isUserError(error)) throw error;
          report.unreadable.push({ id: row.id, guildId: row.guild_id, name: row.name, masterKeyId: row.master_key_id });
          return;
        }
        const sealed = seal(current.key, plaintext, bindingOf(row));
        const result = tx
          .update(cloudCredentials)
          .set({ ciphertext: sealed.ciphertext, iv: sealed.iv, auth_tag: sealed.authTag, master_key_id: current.id })
          .where(and(eq(cloudCredentials.id, row.id), eq(cloudCredentials.master_key_id, row.master_key_id)))
          .run();
        report.reencrypted += result.changes;
      });
    }
    // The ciphertext under the old key must not outlive the rotation in the WAL.
    if (report.reencrypted > 0) checkpointAfterErasure(this.db);
    return report;
  }

  private liveRow(guildId: string, name: string, db: Pick<Db, 'select'> = this.db): CredentialRow | undefined {
    const normalised = credentialNameSchema.safeParse(name);
    if (!normalised.success) return undefined;
    return db
      .select()
      .from(cloudCredentials)
      .where(and(live(guildId), eq(cloudCredentials.name, normalised.data)))
      .get();
  }

  private requireLiveRow(guildId: string, name: string, db: Pick<Db, 'select'> = this.db): CredentialRow {
    const row = this.liveRow(guildId, name, db);
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
