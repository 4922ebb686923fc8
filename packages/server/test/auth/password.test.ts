import { hashPassword, needsRehash, scryptParams, verifyPassword } from '../../src/auth/password';

describe('scrypt password hashes', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('s3cret!', { logN: 10 });
    expect(hash).toMatch(/^scrypt\$10\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    await expect(verifyPassword('s3cret!', hash)).resolves.toBe(true);
    await expect(verifyPassword('s3cret', hash)).resolves.toBe(false);
  });

  it('salts every hash', async () => {
    expect(await hashPassword('same', { logN: 10 })).not.toBe(await hashPassword('same', { logN: 10 }));
  });

  it('refuses malformed stored hashes instead of throwing', async () => {
    for (const bad of ['', 'plain', 'scrypt$x$8$1$a$b', 'argon2$1$2$3$4$5', 'scrypt$40$8$1$AAAA$AAAA']) {
      await expect(verifyPassword('x', bad)).resolves.toBe(false);
    }
  });

  it('asks to rehash hashes weaker than the current parameters', async () => {
    expect(needsRehash(await hashPassword('x', { logN: 10 }))).toBe(true);
    expect(needsRehash(`scrypt$${scryptParams.logN}$8$1$a$b`)).toBe(false);
  });
});
