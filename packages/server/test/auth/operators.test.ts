import { setOperator } from '../../src/auth/operators';
import { createOrganizerFixture, createTestApp, login, getPage, type TestApp } from '../infra/test-app';

// Granting from the command line (`pnpm operator`) is tested with the distribution (packages/app).
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('instance operators', () => {
  it('take effect on the next request of a logged-in user, and are revoked the same way; an unknown email is NOT_FOUND', async () => {
    const f = await createOrganizerFixture(t);
    const b = await login(t, f.email, f.password);
    expect((await getPage(t, b, '/control/jobs')).body).not.toContain('instance operator');
    await setOperator(t.db.dataSource, f.email, true);
    expect((await getPage(t, b, '/control/jobs')).body).toContain('instance operator');
    await setOperator(t.db.dataSource, f.email, false);
    expect((await getPage(t, b, '/control/jobs')).body).not.toContain('instance operator');
    await expect(setOperator(t.db.dataSource, 'ghost@example.test', true)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
