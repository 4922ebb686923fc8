import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

type Reply = { id: number; ok: true; bytes?: Uint8Array; value?: boolean } | { id: number; ok: false; error: string };

/** The operations the wire server needs from the single PGlite session. */
export interface PgliteSession {
  /** Runs raw frontend protocol messages (one or several, concatenated) and returns the backend's answer. */
  execProtocolRaw(message: Uint8Array): Promise<Uint8Array>;
  /** Runs SQL on the session outside any client's turn (setup, search_path, rollback of a lost client). */
  exec(sql: string): Promise<void>;
  isInTransaction(): Promise<boolean>;
}

/**
 * PGlite in a child process (pglite-host.cjs). PGlite executes synchronously inside WebAssembly,
 * so in-process every statement would stall the server's event loop; in a child it runs on another
 * core and the parent only relays bytes. It also keeps PGlite's own dynamic imports out of module
 * sandboxes such as Jest's.
 */
export class PgliteProcess implements PgliteSession {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private exited: Error | null = null;
  private readonly exit: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: Reply) => {
      const call = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      call?.resolve(reply);
    });
    this.exit = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exited = new Error(`the embedded database process exited (${signal ?? `code ${code}`})`);
        for (const call of this.pending.values()) call.reject(this.exited);
        this.pending.clear();
        resolve();
      });
    });
  }

  /** Forks the host, opens (or initialises) the database in `dataDir` (undefined = memory), runs `setupSql`. */
  static async start(dataDir: string | undefined, setupSql: string): Promise<PgliteProcess> {
    const child = fork(join(__dirname, 'pglite-host.cjs'), [], {
      serialization: 'advanced', // Uint8Array crosses as bytes, not as JSON
      execArgv: [], // plain node: the parent's loader flags (tsx, Jest) do not apply to a .cjs file
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const host = new PgliteProcess(child);
    try {
      await host.call({ op: 'start', dataDir, setupSql });
    } catch (err) {
      child.kill('SIGKILL');
      await host.exit;
      throw err;
    }
    return host;
  }

  async execProtocolRaw(message: Uint8Array): Promise<Uint8Array> {
    const reply = await this.call({ op: 'exec', bytes: message });
    return reply.ok && reply.bytes ? reply.bytes : new Uint8Array(0);
  }

  async exec(sql: string): Promise<void> {
    await this.call({ op: 'sql', sql });
  }

  /** A tar of the data directory (paths relative to it), after a CHECKPOINT. */
  async dumpDataDir(): Promise<Uint8Array> {
    const reply = await this.call({ op: 'dump' });
    return reply.bytes ?? new Uint8Array(0);
  }

  async isInTransaction(): Promise<boolean> {
    const reply = await this.call({ op: 'in-transaction' });
    return reply.ok && reply.value === true;
  }

  /** Closes PGlite cleanly (flushing a data directory) and waits for the process to end. */
  async close(): Promise<void> {
    if (!this.exited) {
      try {
        await this.call({ op: 'close' });
      } finally {
        this.child.disconnect();
      }
    }
    await this.exit;
  }

  private call(message: Record<string, unknown>): Promise<Reply & { ok: true }> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, {
        resolve: (reply) => (reply.ok ? resolve(reply) : reject(new Error(reply.error))),
        reject,
      });
      this.child.send({ ...message, id });
    });
  }
}
