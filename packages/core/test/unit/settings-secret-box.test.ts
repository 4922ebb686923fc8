import { randomBytes } from 'node:crypto';
import { openSecret, sealSecret, type SecretEnvelope } from '../../src/settings/secret-box';

const key = randomBytes(32);
const aad = 'kassa-setting:v1:event:e1:payment.stripe:secretKey';

function flip(base64: string, index = 0): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[index] = (bytes[index] as number) ^ 0x01;
  return bytes.toString('base64');
}

describe('secret envelope (AES-256-GCM)', () => {
  it('round-trips JSON values and never contains the plaintext', () => {
    for (const value of ['sk_test_4eC39HqLyjWDarjtT1zdp7dc', { user: 'u', pass: 'p' }, 42]) {
      const envelope = sealSecret(key, value, aad);
      expect(JSON.stringify(envelope)).not.toContain('4eC39HqLyjWDarjtT1zdp7dc');
      expect(openSecret(key, envelope, aad)).toEqual({ ok: true, value });
    }
  });

  it('is versioned and uses a fresh 12-byte IV each time', () => {
    const a = sealSecret(key, 'same', aad);
    const b = sealSecret(key, 'same', aad);
    expect(a).toMatchObject({ v: 1, alg: 'A256GCM' });
    expect(Buffer.from(a.iv, 'base64')).toHaveLength(12);
    expect(a.iv).not.toBe(b.iv);
    expect(a.ct).not.toBe(b.ct);
  });

  it.each<[string, (e: SecretEnvelope) => SecretEnvelope]>([
    ['ciphertext', (e) => ({ ...e, ct: flip(e.ct) })],
    ['tag', (e) => ({ ...e, tag: flip(e.tag) })],
    ['iv', (e) => ({ ...e, iv: flip(e.iv) })],
  ])('detects a tampered %s', (_part, tamper) => {
    const envelope = tamper(sealSecret(key, 'sk_test_secret', aad));
    expect(openSecret(key, envelope, aad)).toEqual({ ok: false, reason: 'tampered' });
  });

  it('refuses a ciphertext moved to another row (different additional data)', () => {
    const envelope = sealSecret(key, 'sk_test_secret', aad);
    expect(openSecret(key, envelope, aad.replace('event:e1', 'event:e2'))).toEqual({ ok: false, reason: 'tampered' });
  });

  it('reports a different key as such, and a malformed value as malformed', () => {
    const envelope = sealSecret(key, 'sk_test_secret', aad);
    expect(openSecret(randomBytes(32), envelope, aad)).toEqual({ ok: false, reason: 'wrong_key' });
    expect(openSecret(key, 'sk_test_secret', aad)).toEqual({ ok: false, reason: 'malformed' });
    expect(openSecret(key, { ...envelope, v: 2 }, aad)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => sealSecret(randomBytes(16), 'x', aad)).toThrow(/32-byte key/);
  });
});
