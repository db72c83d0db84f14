/**
 * The sealing primitive under the ephemeral vault: AES-256-GCM over a JSON map of strings.
 *
 * Exported on its own so tests (and anyone auditing) can exercise the exact code the vault runs, including
 * what happens to tampered ciphertext, without the vault exposing its private storage.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { RandomPool } from './random-pool.js';

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
  return parsePlaintext(plaintext);
}

/** Where sealBox draws prefixes, keys and IVs from. */
const random = new RandomPool();

/** Bytes a box adds to its prefix and ciphertext: the key, the IV and the tag. */
export const BOX_OVERHEAD = KEY_BYTES + IV_BYTES + TAG_BYTES;

/**
 * Seals `secrets` into one buffer that also holds its key: prefix ‖ key ‖ IV ‖ tag ‖ ciphertext. One allocation of
 * its own (never a shared pool slab), the prefix, key and IV drawn together from the random pool, and one `wipe` erases
 * all of it. The prefix is `prefixBytes` random bytes for the caller (the vault makes its session id of them);
 * `aadOf` gets them to compute the binding. The plaintext is written into the ciphertext's place and overwritten
 * there, so it never sits in a buffer of its own.
 */
/** `prefix`: keep these prefix bytes (a session's id, when its secrets change) instead of drawing new ones. */
export function sealBox(secrets: Readonly<Record<string, string>>, prefixBytes: number, aadOf: (prefix: Buffer) => string, prefix?: Buffer): Buffer {
  const json = JSON.stringify(secrets);
  const ciphertextAt = prefixBytes + BOX_OVERHEAD;
  const box = Buffer.allocUnsafeSlow(ciphertextAt + Buffer.byteLength(json, 'utf8'));
  let ciphertext: Buffer | undefined;
  try {
    if (prefix) {
      prefix.copy(box, 0, 0, prefixBytes);
      random.fill(box, prefixBytes, KEY_BYTES + IV_BYTES);
    } else {
      random.fill(box, 0, prefixBytes + KEY_BYTES + IV_BYTES);
    }
    box.write(json, ciphertextAt, 'utf8');
    const keyAt = prefixBytes;
    const ivAt = keyAt + KEY_BYTES;
    const cipher = createCipheriv(ALGORITHM, box.subarray(keyAt, ivAt), box.subarray(ivAt, ivAt + IV_BYTES), { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aadOf(box.subarray(0, prefixBytes)), 'utf8'));
    ciphertext = cipher.update(box.subarray(ciphertextAt));
    cipher.final(); // GCM is a stream mode: nothing is held back
    ciphertext.copy(box, ciphertextAt);
    cipher.getAuthTag().copy(box, ivAt + IV_BYTES);
    return box;
  } catch (error) {
    box.fill(0);
    throw error;
  } finally {
    ciphertext?.fill(0);
  }
}

/** The caller's random prefix of a box (a view: wiping the box wipes it too). */
export function boxPrefix(box: Buffer, prefixBytes: number): Buffer {
  return box.subarray(0, prefixBytes);
}

/** Opens a box made by `sealBox`; throws `SealedDataRejected` unless every byte of it and the AAD match. */
export function openBox(box: Buffer, prefixBytes: number, aad: string): Record<string, string> {
  const keyAt = prefixBytes;
  const ivAt = keyAt + KEY_BYTES;
  const tagAt = ivAt + IV_BYTES;
  const ciphertextAt = tagAt + TAG_BYTES;
  if (box.length < ciphertextAt) throw new SealedDataRejected();
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv(ALGORITHM, box.subarray(keyAt, ivAt), box.subarray(ivAt, tagAt), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(box.subarray(tagAt, ciphertextAt));
    plaintext = decipher.update(box.subarray(ciphertextAt));
    decipher.final();
  } catch {
    throw new SealedDataRejected();
  }
  return parsePlaintext(plaintext);
}

/** Overwrites buffers with zeros (key material, ciphertext) so a purged session leaves nothing behind in them. */
export function wipe(...buffers: Buffer[]): void {
  for (const buffer of buffers) buffer.fill(0);
}

/** The secrets in an authenticated plaintext, which is wiped on the way (the strings it yields cannot be). */
function parsePlaintext(plaintext: Buffer): Record<string, string> {
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

function assertKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) throw new TypeError(`AES-256-GCM needs a ${KEY_BYTES}-byte key`);
}
