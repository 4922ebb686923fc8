import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { User } from '@kassa/core/host';
import { listOperators, shopMigrations } from '@kassa/server';
import { createTestDatabase, type TestDatabase } from '@kassa/testing';

/* `pnpm operator`: the distribution's CLI, run as a process on the composition (composeKassa). */
const run = promisify(execFile);
const repoRoot = path.resolve(__dirname, '../../../..');
let db: TestDatabase;
const dataDir = mkdtempSync(path.join(tmpdir(), 'kassa-operator-'));

beforeAll(async () => {
  db = await createTestDatabase({ migrations: [...shopMigrations], poolSize: 2 });
});
afterAll(async () => {
  await db?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

it('grants an instance operator from the command line (`pnpm operator grant <email>`); a bad command changes nothing', async () => {
  const email = `user-${randomBytes(4).toString('hex')}@example.test`;
  await db.dataSource.getRepository(User).save({ email, passwordHash: 'not-a-login', name: 'Olga', isActive: true });
  const env = {
    ...process.env, DATABASE_URL: db.url, KASSA_DB_SCHEMA: db.schema, KASSA_DATA_DIR: dataDir,
    KASSA_SECRET_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent', TSX_TSCONFIG_PATH: 'tsconfig.base.json',
  };
  const cli = (...args: string[]) => run(path.join(repoRoot, 'node_modules/.bin/tsx'), ['packages/app/src/operator-cli.ts', ...args], { cwd: repoRoot, env });
  // One process per call (each opens the whole composition): kept to two, the machine is shared.
  // An unknown email and revoking are covered through setOperator in the server's tests.
  const granted = await cli('grant', email.toUpperCase());
  expect(granted.stdout).toContain('is now an instance operator');
  expect(await listOperators(db.dataSource)).toEqual([email]);
  await expect(cli('promote', email)).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('usage') });
  expect(await listOperators(db.dataSource)).toEqual([email]);
}, 120_000);
