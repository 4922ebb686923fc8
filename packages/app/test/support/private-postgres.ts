import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of the test's own (initdb into a temporary folder, its own loopback port,
 * trust authentication), so a test can stop and restart it without touching the shared server on
 * 5432. Run as the `postgres` OS user (PostgreSQL refuses to run as root); the tests run as root.
 */
export class PrivatePostgres {
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'kassa-pg-'));
  private readonly bin = postgresBin();

  constructor(readonly port: number) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** initdb (fsync off: nothing here must survive the machine) and start. */
  async init(): Promise<void> {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(this.dir, uid, gid);
    await this.asPostgres('initdb', ['-D', this.data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    await this.start();
  }

  async start(): Promise<void> {
    const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c fsync=off -c full_page_writes=off -c max_connections=200`;
    await this.asPostgres('pg_ctl', ['-D', this.data, '-l', path.join(this.dir, 'log'), '-o', options, '-w', '-t', '30', 'start']);
  }

  /** A fast shutdown: sessions are terminated (as on a routine restart or a failover), open transactions roll back. */
  async stop(): Promise<void> {
    await this.asPostgres('pg_ctl', ['-D', this.data, '-m', 'fast', '-w', '-t', '30', 'stop']);
  }

  async destroy(): Promise<void> {
    try {
      await this.stop();
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private get data(): string {
    return path.join(this.dir, 'data');
  }

  /** Not blocking: the server under test keeps answering while the cluster stops or starts. */
  private async asPostgres(tool: string, args: string[]): Promise<void> {
    await run('runuser', ['-u', 'postgres', '--', path.join(this.bin, tool), ...args], { cwd: this.dir });
  }
}

/** /usr/lib/postgresql/<newest>/bin */
function postgresBin(): string {
  const versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql');
  return path.join('/usr/lib/postgresql', versions[0]!, 'bin');
}
