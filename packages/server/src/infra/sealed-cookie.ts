import { createCipheriv, createDecipheriv, hkdfSync, randomFillSync } from 'node:crypto';

/**
 * A cookie value that only this server can read and write: AES-256-GCM (node:crypto) over JSON,
 * a fresh 96-bit nonce per value, the cookie's name as associated data (a value sealed for one
 * cookie never opens as another), and the expiry inside the sealed payload (a copied value stops
 * working when it runs out, whatever the browser does with Max-Age). The key is derived from the
 * session secret with HKDF, per cookie name.
 *
 * The plaintext of the values this instance sealed or opened lately is remembered by the whole
 * sealed value: a buyer's next request brings back the value its last answer set, which then opens
 * without base64 decoding and decryption. The memo's key is the complete authenticated value this
 * key produced or verified, so a value that was never sealed here still has to decrypt; the expiry
 * is checked on every open, and each open parses a fresh object (nothing is shared between requests).
 */
export class SealedCookie<T> {
  private readonly key: Buffer;
  private readonly aad: Buffer;
  /**
   * Sealed value → its JSON plaintext and expiry (ms), for the values of the last few thousand
   * answers, in two generations: new values go into `recent`; when it is full it becomes `older`
   * and the generation before is dropped. A value is found in either.
   */
  private recent = new Map<string, Remembered>();
  private older = new Map<string, Remembered>();

  constructor(readonly name: string, secret: string, private readonly maxAgeMs: number) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'kassa sealed cookie', name, 32));
    this.aad = Buffer.from(name);
  }

  /** The cookie value for `value`, valid until now + maxAge. */
  seal(value: T, now: Date): string {
    return this.sealJson(JSON.stringify(value), now);
  }

  /**
   * As seal, for a value its caller has serialised already (`JSON.stringify(value)`): a caller that
   * measured the value's size before writing it does not serialise it a second time.
   */
  sealJson(valueJson: string, now: Date): string {
    const iv = freshIv();
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(this.aad);
    const expires = now.getTime() + this.maxAgeMs;
    // Exactly JSON.stringify({ v: value, e: expires }).
    const json = `{"v":${valueJson},"e":${expires}}`;
    const body = Buffer.concat([cipher.update(json), cipher.final()]);
    const sealed = Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    this.remember(sealed, json, expires);
    return sealed;
  }

  /** The value, or null for anything not sealed by this key for this name, tampered with, or expired. */
  open(raw: string | undefined, now: Date): T | null {
    if (!raw || raw.length > 8192) return null;
    const known = this.recent.get(raw) ?? this.older.get(raw);
    if (known) return known.expires > now.getTime() ? (JSON.parse(known.json) as { v: T }).v : null;
    const bytes = Buffer.from(raw, 'base64url');
    if (bytes.length < 12 + 16 + 2) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, 12));
      decipher.setAAD(this.aad);
      decipher.setAuthTag(bytes.subarray(12, 28));
      const plain = Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
      const parsed = JSON.parse(plain) as { v: T; e: number };
      if (typeof parsed.e !== 'number') return null;
      this.remember(raw, plain, parsed.e);
      return parsed.e > now.getTime() ? parsed.v : null;
    } catch {
      return null;
    }
  }

  private remember(sealed: string, json: string, expires: number): void {
    // Bounded: a buyer's value is asked for again by the buyer's next request, seconds later, so the
    // newest values are kept. Emptying the whole memo when full made every buyer's next request
    // after it decrypt. Deleting the oldest entry of one Map per insert kept the newest exactly, but
    // a Map's deleted slots stay at its front until it rehashes, and finding the oldest walked over
    // them on every insert. Two generations keep between one and two generations' worth of the
    // newest values, each insert and swap in constant time.
    if (this.recent.size >= generationSize) {
      this.older = this.recent;
      this.recent = new Map();
    }
    this.recent.set(sealed, { json, expires });
  }
}

interface Remembered { json: string; expires: number }

/** How many sealed values one generation of the memo holds (two at most: a few MB). */
const generationSize = 4096;

// Nonces are drawn from a pool refilled from the CSPRNG (as node's randomUUID does): one call to
// the generator per 512 seals instead of one per seal. Each slice is used once, and the cipher and
// the sealed value copy it before the pool is refilled.
const ivPool = Buffer.alloc(12 * 512);
let ivOffset = ivPool.length;

function freshIv(): Buffer {
  if (ivOffset === ivPool.length) {
    randomFillSync(ivPool);
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + 12);
  ivOffset += 12;
  return iv;
}
