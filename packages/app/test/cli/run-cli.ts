import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createDataSource } from '@kassa/core/host';
import { defaultDatabaseUrl } from '@kassa/testing';
import { runKassaCli } from '../../src/cli/kassa-program';

/*
 * Runs `pnpm kassa` commands: in this process through the entry point's own function (runKassaCli),
 * with stdin, stdout and stderr swapped for the call, or as the operator does, a tsx child process on
 * the repository's entry point. A child process starts and compiles the whole app (seconds of CPU),
 * so `spawn` is kept for what only a process shows: the entry point's exit code and a real stdin pipe.
 */
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
  /** Runs one command in this process (stdin is `input`, or empty and not a terminal). */
  run(args: readonly string[], opts?: { env?: Record<string, string>; input?: string }): Promise<CliResult>;
  /** Runs one command as a child process through the entry point, as `pnpm kassa` does. */
  spawn(args: readonly string[], opts?: { env?: Record<string, string>; input?: string }): Promise<CliResult>;
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
    async run(args, opts = {}) {
      return inProcess(() => runKassaCli(args, { ...baseEnv, ...opts.env }), opts.input);
    },
    spawn(args, opts = {}) {
      return new Promise((resolve) => {
        const child = execFile(path.join(repoRoot, 'node_modules/.bin/tsx'), ['packages/app/src/cli/kassa-cli.ts', ...args],
          { cwd: repoRoot, env: { ...baseEnv, ...opts.env }, timeout: 150_000 },
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

let running = false;

/** Calls `command` with stdin fed from `input` and what it writes to stdout and stderr captured. */
async function inProcess(command: () => Promise<number>, input?: string): Promise<CliResult> {
  if (running) throw new Error('one in-process command at a time: they share process.stdin and stdout');
  running = true;
  const stdout: string[] = [];
  const stderr: string[] = [];
  const writes = { out: process.stdout.write, err: process.stderr.write };
  const stdin = Object.getOwnPropertyDescriptor(process, 'stdin')!;
  const capture = (into: string[]) => ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    done?.();
    return true;
  }) as typeof process.stdout.write;
  // Like a closed pipe: not a terminal, the given bytes, then the end.
  Object.defineProperty(process, 'stdin', { configurable: true, enumerable: true, value: Readable.from(input === undefined ? [] : [Buffer.from(input)]) });
  process.stdout.write = capture(stdout);
  process.stderr.write = capture(stderr);
  try {
    const code = await command();
    return { code, stdout: stdout.join(''), stderr: stderr.join('') };
  } finally {
    process.stdout.write = writes.out;
    process.stderr.write = writes.err;
    Object.defineProperty(process, 'stdin', stdin);
    running = false;
  }
}
