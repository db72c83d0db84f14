/**
 * AES-256-GCM sealing of credential secrets. The associated data binds a ciphertext to the row it belongs to,
 * so a row copied into another guild, renamed, or pointed at another endpoint no longer opens.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
/** 96 bits, the size GCM is designed for; random per encryption, so one key can seal many rows safely. */
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface Sealed {
  ciphertext: Buffer;
  iv: Buffer;
  authTag: Buffer;
}

/** What a sealed credential is bound to. The endpoint is included because a swapped endpoint would send signed requests elsewhere. */
export interface SealBinding {
  guildId: string;
  name: string;
  provider: string;
  endpoint: string | null;
}

function associatedData(binding: SealBinding): Buffer {
  // A JSON array is unambiguous however the parts are spelled (no separator can be forged from inside a name).
  return Buffer.from(
    JSON.stringify(['cloud-chatops/credential/v1', binding.guildId, binding.name, binding.provider, binding.endpoint ?? '']),
    'utf8',
  );
}

export function seal(key: Buffer, plaintext: Buffer, binding: SealBinding): Sealed {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(binding));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, iv, authTag: cipher.getAuthTag() };
}

/** The plaintext, or undefined when the key is wrong or anything sealed (or bound) was altered. */
export function unseal(key: Buffer, sealed: Sealed, binding: SealBinding): Buffer | undefined {
  if (sealed.iv.length !== IV_BYTES || sealed.authTag.length !== TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv(ALGORITHM, key, sealed.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(binding));
    decipher.setAuthTag(sealed.authTag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch {
    return undefined;
  }
}
