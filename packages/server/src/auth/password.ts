import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

function scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/**
 * scrypt parameters. N = 2^15, r = 8, p = 1 (the OWASP password storage recommendation for
 * scrypt; 32 MiB of memory and roughly 50–100 ms per hash on one core), 16-byte random salt,
 * 32-byte key. The parameters are stored in every hash, so raising them later keeps old hashes
 * verifiable; `needsRehash` tells the login to upgrade them.
 */
export const scryptParams = { logN: 15, r: 8, p: 1, saltBytes: 16, keyBytes: 32 } as const;

export interface HashOptions {
  /** log2 of scrypt's N. Only tests and seeds lower it, to keep them fast. */
  logN?: number;
}

/** `scrypt$<logN>$<r>$<p>$<salt b64url>$<key b64url>` */
export async function hashPassword(password: string, opts: HashOptions = {}): Promise<string> {
  const logN = opts.logN ?? scryptParams.logN;
  const { r, p, saltBytes, keyBytes } = scryptParams;
  const salt = randomBytes(saltBytes);
  const key = await scrypt(password, salt, keyBytes, { N: 2 ** logN, r, p, maxmem: 256 * 2 ** logN * r });
  return ['scrypt', logN, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Constant-time check of a password against a stored hash; false for any malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [logN, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![logN, r, p].every((n) => Number.isInteger(n) && n > 0) || logN > 20) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (expected.length < 16) return false;
  const actual = await scrypt(password, salt, expected.length, { N: 2 ** logN, r, p, maxmem: 256 * 2 ** logN * r });
  return timingSafeEqual(actual, expected);
}

/** Whether a stored hash was made with weaker parameters than today's. */
export function needsRehash(stored: string): boolean {
  const logN = Number(stored.split('$')[1]);
  return !(logN >= scryptParams.logN);
}
