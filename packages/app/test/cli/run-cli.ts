import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDataSource } from '@kassa/core/host';
import { defaultDatabaseUrl } from '@kassa/testing';

/* Runs `pnpm kassa` as the operator does: a tsx child process on the repository's entry point. */
const repoRoot = path.resolve(__dirname, '../../../..');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliSandbox {
  /** An empty schema of its own (no migrations applied): the CLI's `migrate` sets it up. */
  schema: string;
  url: string;
  run(args: readonly string[], opts?: { env?: Record<string, string>; input?: string }): Promise<CliResult>;
  /** A connection to the sandbox's schema, for assertions. */
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  destroy(): Promise<void>;
}

export async function cliSandbox(): Promise<CliSandbox> {
  const url = process.env.DATABASE_URL ?? defaultDatabaseUrl;
  const schema = `t_${randomBytes(6).toString('hex')}`;
  // Connected, never migrated here: what the schema holds is what the CLI wrote.
  const ds = createDataSource({ url, schema, poolSize: 1 });
  await ds.initialize();
  await ds.query(`CREATE SCHEMA ${schema}`);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'kassa-cli-'));
  const baseEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: process.env.HOME,
    DATABASE_URL: url, KASSA_DB_SCHEMA: schema, KASSA_DATA_DIR: dataDir, KASSA_SECRET_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'silent', TSX_TSCONFIG_PATH: 'tsconfig.base.json',
  };
  return {
    schema,
    url,
    run(args, opts = {}) {
      return new Promise((resolve) => {
        const child = execFile(path.join(repoRoot, 'node_modules/.bin/tsx'), ['packages/app/src/cli/kassa-cli.ts', ...args],
          { cwd: repoRoot, env: { ...baseEnv, ...opts.env }, timeout: 90_000 },
          (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }));
        if (opts.input !== undefined) child.stdin!.end(opts.input);
        else child.stdin!.end();
      });
    },
    async query<T>(sql: string, params: unknown[] = []) {
      return (await ds.query(sql, params)) as T[];
    },
    async destroy() {
      await ds.query(`DROP SCHEMA ${schema} CASCADE`);
      await ds.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
