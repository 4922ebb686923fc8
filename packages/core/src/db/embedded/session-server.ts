import { createServer, type Server, type Socket } from 'node:net';
import type { PgliteSession } from './pglite-process';
import {
  closeStatements, errorResponse, FrontendMessageReader, inspectAnswer, listenChanges, prefixStatementNames,
  refuseCopyFromStdin, searchPathFromOptions, startupParameters, syncMessage, type FrontendMessage,
} from './wire-protocol';

/**
 * Serves one PGlite instance (a single PostgreSQL session) to many pg clients over TCP.
 *
 * PGlite has exactly one backend, so connections take turns: a connection gets the session with
 * its first message and keeps it until the backend reports ReadyForQuery with status idle, i.e.
 * until its simple query, its extended-protocol sequence (Parse … Sync) or its whole transaction
 * block has ended. Others queue in arrival order meanwhile.
 *
 * Why not pglite-socket's PGLiteSocketServer: its multiplexer switches clients between single
 * protocol messages whenever no explicit BEGIN is open, so a Bind that spans several socket reads
 * (any parameter over ~64 KB) can be bound to another client's Parse. Reproduced with 30 concurrent
 * 400 KB inserts: 10 failed with another statement's parameter types. We reuse its idea, not its
 * framing.
 *
 * Session state is shared by all clients (one backend). The one piece of per-connection state our
 * clients rely on, the search_path sent in the startup `options` (createDataSource's schema,
 * BullMQ's PostgreSQL backend), is replayed with SET whenever the session passes to a client that
 * wants a different one; clients without it get `defaultSearchPath`. Clients must therefore not
 * change session state themselves (SET LOCAL inside a transaction is fine).
 *
 * Named prepared statements and portals get a per-connection prefix, so that connections cannot
 * collide on (or run) each other's; a connection's statements are closed when it goes away.
 *
 * A connection that holds the session (an open transaction) and then goes quiet stops everyone;
 * after `idleHoldTimeoutMs` it is cut off like PostgreSQL's idle_in_transaction_session_timeout,
 * its transaction rolled back. That also turns the classic mistake, waiting inside a transaction
 * for a second connection, from a silent hang into an error.
 *
 * LISTEN/NOTIFY: the single session receives every notification in the answer of the client that
 * committed the NOTIFY; they are routed to the connections that said LISTEN on the channel (BullMQ's
 * PostgreSQL backend wakes its workers this way).
 */
export class SessionServer {
  private server: Server | null = null;
  private readonly sessions = new Set<ClientSession>();
  /** Who has the PGlite session: a client connection, or a maintenance task (see exclusive()). */
  private owner: object | null = null;
  private readonly waiting: { session: object; grant: (granted: boolean) => void }[] = [];
  private readonly listeners = new Map<string, Set<ClientSession>>();

  private appliedSearchPath: string;

  constructor(
    private readonly db: PgliteSession,
    readonly defaultSearchPath: string,
    /** A connection that keeps the session this long without sending anything is cut off (0 = never). */
    readonly idleHoldTimeoutMs = 0,
  ) {
    this.appliedSearchPath = defaultSearchPath;
  }

  /** Listens on host:port (0 = a free port) and resolves with the port taken. */
  listen(host: string, port: number): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /** Stops accepting, drops every client (rolling back an open transaction) and waits for that. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    await Promise.all([...this.sessions].map((s) => s.end()));
    await closed;
  }

  /** Resolves true once `session` holds the PGlite session, false if it went away while waiting. */
  acquire(session: object): Promise<boolean> {
    if (this.owner === session) return Promise.resolve(true);
    if (this.owner === null) {
      this.owner = session;
      return Promise.resolve(true);
    }
    return new Promise((grant) => this.waiting.push({ session, grant }));
  }

  release(session: object): void {
    if (this.owner !== session) return;
    const next = this.waiting.shift();
    this.owner = next?.session ?? null;
    next?.grant(true);
  }

  /** Cancels the queued turn of a client that is going away, so its pending work can finish. */
  cancelWaiting(session: object): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      if (this.waiting[i]!.session === session) this.waiting.splice(i, 1)[0]!.grant(false);
    }
  }

  /** Records a client's LISTEN / UNLISTEN (on the shared session they stay registered; routing is ours). */
  setListening(session: ClientSession, listen: boolean, channel: string): void {
    if (channel === '*') {
      if (!listen) for (const set of this.listeners.values()) set.delete(session);
      return;
    }
    const set = this.listeners.get(channel) ?? new Set<ClientSession>();
    if (listen) set.add(session);
    else set.delete(session);
    this.listeners.set(channel, set);
  }

  /** Hands a NotificationResponse to every client listening on its channel. */
  notify(channel: string, message: Uint8Array): void {
    for (const session of this.listeners.get(channel) ?? []) session.deliver(message);
  }

  /**
   * Forgets a client. If it held the session, the session is reset (Sync, ROLLBACK) and handed on;
   * the statements it prepared are closed, waiting for a turn if need be.
   */
  async drop(session: ClientSession): Promise<void> {
    this.sessions.delete(session);
    this.setListening(session, false, '*');
    this.cancelWaiting(session);
    if (this.owner !== session && (session.prepared.size === 0 || !(await this.acquire(session)))) return;
    try {
      // A client that vanished mid-sequence or mid-transaction must not leave its state to the next.
      await this.exec(syncMessage);
      if (await this.db.isInTransaction()) await this.db.exec('ROLLBACK');
      if (session.prepared.size > 0) await this.exec(closeStatements(session.prepared));
    } catch {
      // The database may already be closing; nothing else depends on this reset.
    } finally {
      this.release(session);
    }
  }

  /**
   * Runs `task` with the session to itself, once it is idle: after the clients ahead in line and
   * never inside anyone's transaction (a backup then sees only committed data).
   */
  async exclusive<T>(task: () => Promise<T>): Promise<T> {
    const token = {};
    await this.acquire(token);
    try {
      return await task();
    } finally {
      this.release(token);
    }
  }

  exec(message: Uint8Array): Promise<Uint8Array> {
    return this.db.execProtocolRaw(message);
  }

  /** Called by the owner, between statements only (the session is idle when it changes hands). */
  async useSearchPath(searchPath: string): Promise<void> {
    if (searchPath === this.appliedSearchPath) return;
    await this.db.exec(`SET search_path TO ${searchPath}`);
    this.appliedSearchPath = searchPath;
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    const session = new ClientSession(this, socket);
    this.sessions.add(session);
  }
}

/** One client connection: its message framing and its strictly ordered turn-taking. */
class ClientSession {
  private readonly reader = new FrontendMessageReader();
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private ended: Promise<void> | null = null;
  private searchPath: string | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private static nextId = 1;
  private readonly namePrefix = `k${ClientSession.nextId++}_`;
  /** Prepared statements this connection created (prefixed names), closed when it goes away. */
  readonly prepared = new Set<string>();

  constructor(private readonly server: SessionServer, private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => void this.end());
    socket.on('close', () => void this.end());
  }

  /** Closes the socket and releases the session; safe to call more than once. */
  end(): Promise<void> {
    this.stopIdleTimer();
    if (!this.ended) {
      this.closed = true;
      this.socket.destroy();
      this.server.cancelWaiting(this);
      // Wait for the message in flight, then hand the session back in a clean state.
      this.ended = this.chain.then(() => this.server.drop(this));
    }
    return this.ended;
  }

  private receive(chunk: Buffer): void {
    this.stopIdleTimer();
    let messages: FrontendMessage[];
    try {
      messages = this.reader.push(chunk);
    } catch (err) {
      this.socket.end(errorResponse('08P01', (err as Error).message));
      void this.end();
      return;
    }
    for (const message of batch(messages)) {
      this.chain = this.chain.then(() => this.handle(message)).catch((err: unknown) => {
        if (!this.closed) this.socket.end(errorResponse('XX000', `embedded database: ${(err as Error).message}`));
        void this.end();
      });
    }
  }

  private async handle(message: FrontendMessage): Promise<void> {
    if (this.closed) return;
    switch (message.kind) {
      case 'ssl-request':
        this.socket.write('N'); // no TLS on a loopback-only server; the client goes on in clear
        return;
      case 'cancel-request':
        // PGlite has no second backend that could interrupt the first; the protocol expects no answer.
        this.socket.end();
        return;
      case 'typed':
        if (message.type === 'X') {
          void this.end();
          return;
        }
        break;
      case 'startup':
        this.searchPath = searchPathFromOptions(startupParameters(message.bytes).options);
        break;
    }
    if (!(await this.server.acquire(this)) || this.closed) return;
    await this.server.useSearchPath(this.searchPath ?? this.server.defaultSearchPath);
    const bytes = message.kind === 'typed'
      ? prefixStatementNames(refuseCopyFromStdin(message.bytes), this.namePrefix, this.prepared)
      : message.bytes;
    const answer = inspectAnswer(await this.server.exec(bytes));
    if (answer.forClient.length > 0 && !this.closed) this.socket.write(answer.forClient);
    if (message.kind === 'typed') for (const c of listenChanges(message.bytes)) this.server.setListening(this, c.listen, c.channel);
    for (const n of answer.notifications) this.server.notify(n.channel, n.message);
    if (answer.status === 'I') this.server.release(this);
    else this.startIdleTimer();
  }

  /** Still holding the session (transaction, COPY, unfinished sequence) and waiting for the client. */
  private startIdleTimer(): void {
    const ms = this.server.idleHoldTimeoutMs;
    if (ms <= 0 || this.closed) return;
    this.stopIdleTimer();
    this.idleTimer = setTimeout(() => {
      const why = `terminating connection: it held the embedded database's only session idle for more than ${ms} ms`
        + ' (open transaction); every other connection was waiting';
      this.socket.end(errorResponse('25P03', why));
      void this.end();
    }, ms);
    this.idleTimer.unref();
  }

  private stopIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  /** An asynchronous NotificationResponse for this client (allowed between any two messages). */
  deliver(message: Uint8Array): void {
    if (!this.closed) this.socket.write(message);
  }
}

/**
 * Joins consecutive typed messages that arrived together (pg sends Parse, Bind, Describe, Execute
 * and Sync in one write) so that PGlite runs them in one call; Terminate stays on its own.
 */
function batch(messages: FrontendMessage[]): FrontendMessage[] {
  const out: FrontendMessage[] = [];
  let run: Uint8Array[] = [];
  const flush = () => {
    if (run.length === 0) return;
    out.push({ kind: 'typed', type: 'batch', bytes: run.length === 1 ? run[0]! : Buffer.concat(run) });
    run = [];
  };
  for (const m of messages) {
    if (m.kind === 'typed' && m.type !== 'X') {
      run.push(m.bytes);
    } else {
      flush();
      out.push(m);
    }
  }
  flush();
  return out;
}
