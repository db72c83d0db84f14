/**
 * The sealing primitive under the ephemeral vault: AES-256-GCM over a JSON map of strings.
 *
 * Exported on its own so tests (and anyone auditing) can exercise the exact code the vault runs, including
 * what happens to tampered ciphertext, without the vault exposing its private storage.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';

export const KEY_BYTES = 32;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';

/** Ciphertext with everything needed to open it except the key and the additional authenticated data. */
export interface Sealed {
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

/** The ciphertext did not authenticate: wrong key, wrong AAD, or modified bytes. Never carries plaintext. */
export class SealedDataRejected extends Error {
  constructor() {
    super('Sealed data failed authentication (tampered, wrong key or wrong binding)');
    this.name = 'SealedDataRejected';
  }
}

const secretMapSchema = z.record(z.string(), z.string());

/** A fresh random 256-bit key. The caller owns it and should `wipe` it when done. */
export function generateKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/**
 * Encrypts `secrets` under `key` with a fresh random 96-bit IV, binding the result to `aad`
 * (the vault passes guild id + session id, so a sealed blob cannot be replayed under another binding).
 */
export function sealSecrets(key: Buffer, secrets: Readonly<Record<string, string>>, aad: string): Sealed {
  assertKey(key);
  const plaintext = Buffer.from(JSON.stringify(secrets), 'utf8');
  try {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { iv, ciphertext, tag: cipher.getAuthTag() };
  } finally {
    plaintext.fill(0);
  }
}

/** Decrypts and authenticates; throws `SealedDataRejected` unless key, AAD, IV, ciphertext and tag all match. */
export function openSealed(key: Buffer, sealed: Sealed, aad: string): Record<string, string> {
  assertKey(key);
  if (sealed.iv.length !== IV_BYTES || sealed.tag.length !== TAG_BYTES) throw new SealedDataRejected();
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv(ALGORITHM, key, sealed.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(sealed.tag);
    plaintext = Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch {
    throw new SealedDataRejected();
  }
  try {
    const parsed = secretMapSchema.safeParse(JSON.parse(plaintext.toString('utf8')));
    if (!parsed.success) throw new SealedDataRejected();
    return parsed.data;
  } catch {
    throw new SealedDataRejected();
  } finally {
    plaintext.fill(0);
  }
}

/** Overwrites buffers with zeros (key material, ciphertext) so a purged session leaves nothing behind in them. */
export function wipe(...buffers: Buffer[]): void {
  for (const buffer of buffers) buffer.fill(0);
}

function assertKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) throw new TypeError(`AES-256-GCM needs a ${KEY_BYTES}-byte key`);
}
