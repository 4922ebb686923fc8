import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * How a secret setting is stored (the jsonb `value` of its row). Versioned so that the algorithm or
 * the key can change later without guessing what an old row holds.
 * - `kid`: the first 8 hex digits of SHA-256(key), so a row written under another key is reported
 *   as such instead of as tampering.
 * - The additional authenticated data binds the ciphertext to its row's scope, namespace and key, so
 *   a ciphertext copied into another row (another event's Stripe key) does not decrypt.
 */
export interface SecretEnvelope {
  v: 1;
  alg: 'A256GCM';
  kid: string;
  iv: string;
  tag: string;
  ct: string;
}

export type SecretOpenResult =
  | { ok: true; value: unknown }
  | { ok: false; reason: 'wrong_key' | 'tampered' | 'malformed' };

const ivBytes = 12;

/** Encrypts a JSON value with AES-256-GCM under a random 12-byte IV. `aad` names where it is stored. */
export function sealSecret(key: Buffer, value: unknown, aad: string): SecretEnvelope {
  assertKey(key);
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return { v: 1, alg: 'A256GCM', kid: keyId(key), iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ct: ct.toString('base64') };
}

/** Decrypts an envelope; any change to ciphertext, IV, tag or AAD fails authentication. */
export function openSecret(key: Buffer, envelope: unknown, aad: string): SecretOpenResult {
  assertKey(key);
  if (!isEnvelope(envelope)) return { ok: false, reason: 'malformed' };
  if (envelope.kid !== keyId(key)) return { ok: false, reason: 'wrong_key' };
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.iv, 'base64'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
    const plain = Buffer.concat([decipher.update(Buffer.from(envelope.ct, 'base64')), decipher.final()]);
    return { ok: true, value: JSON.parse(plain.toString('utf8')) };
  } catch {
    return { ok: false, reason: 'tampered' };
  }
}

export function isEnvelope(value: unknown): value is SecretEnvelope {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return e.v === 1 && e.alg === 'A256GCM' && typeof e.kid === 'string' && typeof e.iv === 'string'
    && Buffer.from(e.iv, 'base64').length === ivBytes && typeof e.tag === 'string' && Buffer.from(e.tag, 'base64').length === 16
    && typeof e.ct === 'string';
}

function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

function assertKey(key: Buffer): void {
  // A programmer error (config validation already guarantees 32 bytes), hence a plain Error.
  if (key.length !== 32) throw new Error(`AES-256-GCM needs a 32-byte key, got ${key.length} bytes`);
}
