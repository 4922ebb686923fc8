import { rename, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { KassaError } from '../../errors';
import { lockDataDir } from './data-dir-lock';
import { PgliteProcess } from './pglite-process';
import { SessionServer } from './session-server';

export interface EmbeddedPostgresOptions {
  /** Directory to keep the database in (created if missing); undefined = in memory, gone on close. */
  dataDir?: string;
  /** Loopback port to listen on; 0 (the default) = any free port. */
  port?: number;
  /**
   * Schema for clients that do not ask for one in their startup options (default "public");
   * created if missing and set as the database's search_path.
   */
  schema?: string;
  /**
   * A connection that holds the session (an open transaction) without sending anything for this
   * long is disconnected and its transaction rolled back, so that one stuck client cannot stop
   * all the others (default 60 s; 0 = never).
   */
  idleInTransactionTimeoutMs?: number;
}

/** A running embedded PostgreSQL. */
export interface EmbeddedPostgres {
  /** postgres://… URL for pg, TypeORM (createDataSource) and BullMQ's PostgreSQL backend. */
  readonly url: string;
  /**
   * Writes a consistent copy of the database to `file` while it keeps running: a tar of the
   * PostgreSQL data directory, taken when no transaction is open (clients wait meanwhile).
   * Restore by unpacking it into `<dataDir>/pgdata` of a stopped instance (see docs/operations.md).
   */
  backup(file: string): Promise<void>;
  /** Disconnects every client (rolling back open transactions), stops PGlite and frees the dataDir. */
  close(): Promise<void>;
}

/** Where PGlite keeps its files inside `dataDir`; the rest of the directory is the caller's. */
export const embeddedPgDataSubdir = 'pgdata';

/**
 * Starts PGlite (PostgreSQL compiled to WebAssembly, in a child process) and serves it over the
 * PostgreSQL wire protocol on 127.0.0.1, so that the same pg/TypeORM code and the same migrations
 * run as against a real server. PGlite is a single session: clients take turns statement by
 * statement and transaction by transaction (see SessionServer); keep pools small and never wait
 * on a second connection inside a transaction.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const schema = opts.schema ?? 'public';
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) {
    throw new KassaError('VALIDATION_FAILED', { detail: `schema must be a lower-case identifier, got "${schema}"` });
  }
  const port = opts.port ?? 0;
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535) {
    throw new KassaError('VALIDATION_FAILED', { detail: `port must be an integer from 0 to 65535, got ${port}` });
  }
  const idleTimeout = opts.idleInTransactionTimeoutMs ?? 60_000;
  if (!Number.isSafeInteger(idleTimeout) || idleTimeout < 0) {
    throw new KassaError('VALIDATION_FAILED', { detail: `idleInTransactionTimeoutMs must be an integer ≥ 0, got ${idleTimeout}` });
  }
  const where = opts.dataDir ?? 'memory';
  // Starting PGlite takes seconds; a taken port should be reported before that, not after.
  if (port !== 0) await probePort(port).catch((err: unknown) => {
    throw new KassaError('EMBEDDED_START_FAILED', { dataDir: where, reason: describe(err, port) }, { cause: err });
  });
  const unlock = opts.dataDir ? await lockDataDir(opts.dataDir) : async () => {};

  let db: PgliteProcess | null = null;
  let server: SessionServer | null = null;
  try {
    const searchPath = schema === 'public' ? 'public' : `${schema}, public`;
    // PGlite does not apply per-database settings when it starts, so the session gets them too;
    // ALTER DATABASE records the intent in the data directory for any other tool that opens it.
    db = await PgliteProcess.start(opts.dataDir ? join(opts.dataDir, embeddedPgDataSubdir) : undefined, `
      CREATE SCHEMA IF NOT EXISTS ${schema};
      ALTER DATABASE postgres SET search_path TO ${searchPath};
      SET search_path TO ${searchPath};
    `);
    server = new SessionServer(db, searchPath, idleTimeout);
    const boundPort = await server.listen('127.0.0.1', port);
    const [liveDb, liveServer] = [db, server];
    let closing: Promise<void> | null = null;
    return {
      url: `postgres://postgres@127.0.0.1:${boundPort}/postgres`,
      async backup(file) {
        const tar = await liveServer.exclusive(() => liveDb.dumpDataDir());
        // Written aside and renamed, so a crash never leaves a truncated file under the final name.
        const partial = `${file}.partial-${process.pid}`;
        await writeFile(partial, tar);
        await rename(partial, file);
      },
      close() {
        closing ??= (async () => {
          try {
            await liveServer.close();
            await liveDb.close();
          } finally {
            await unlock();
          }
        })();
        return closing;
      },
    };
  } catch (err) {
    await server?.close().catch(() => {});
    await db?.close().catch(() => {});
    await unlock();
    if (err instanceof KassaError) throw err;
    throw new KassaError('EMBEDDED_START_FAILED', { dataDir: where, reason: describe(err, port) }, { cause: err });
  }
}

function probePort(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

function describe(err: unknown, port: number): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return `port ${port} on 127.0.0.1 is already in use`;
  if (code === 'EACCES') return `no permission to listen on port ${port} or to use the data directory`;
  return err instanceof Error ? err.message : String(err);
}
