import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { listOperators, setOperator } from '../../src/auth/operators';
import { createOrganizerFixture, createTestApp, login, getPage, type TestApp } from '../infra/test-app';

const run = promisify(execFile);
const repoRoot = path.resolve(__dirname, '../../../..');
let t: TestApp;
const dataDir = mkdtempSync(path.join(tmpdir(), 'kassa-operator-'));

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('instance operators', () => {
  it('are granted from the command line (`pnpm operator grant <email>`); a bad command changes nothing', async () => {
    const f = await createOrganizerFixture(t);
    const env = {
      ...process.env, DATABASE_URL: t.db.url, KASSA_DB_SCHEMA: t.db.schema, KASSA_DATA_DIR: dataDir,
      KASSA_SECRET_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent', TSX_TSCONFIG_PATH: 'tsconfig.base.json',
    };
    const cli = (...args: string[]) => run(path.join(repoRoot, 'node_modules/.bin/tsx'), ['packages/server/src/operator-cli.ts', ...args], { cwd: repoRoot, env });
    // One process per call (each opens the whole composition): kept to two, the machine is shared.
    // An unknown email and revoking are covered through setOperator below.
    const granted = await cli('grant', f.email.toUpperCase());
    expect(granted.stdout).toContain('is now an instance operator');
    expect(await listOperators(t.db.dataSource)).toEqual([f.email]);
    await expect(cli('promote', f.email)).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('usage') });
    expect(await listOperators(t.db.dataSource)).toEqual([f.email]);
  }, 120_000);

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
