/**
 * The pieces of the PostgreSQL frontend/backend protocol (v3) the embedded session server needs:
 * framing the clients' byte streams, reading the backend's answers (ReadyForQuery status,
 * notifications), and the few rewrites that let many clients share one PGlite session (statement
 * names, search_path, LISTEN bookkeeping, the COPY FROM STDIN guard). Pure functions, no I/O.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html
 */

/** Request codes of the untyped messages a client may send before its StartupMessage. */
const sslRequestCode = 80877103;
const gssEncRequestCode = 80877104;
const cancelRequestCode = 80877102;
const protocolVersion3 = 196608;

export type FrontendMessage =
  | { kind: 'ssl-request' }
  | { kind: 'cancel-request' }
  | { kind: 'startup'; bytes: Uint8Array }
  | { kind: 'typed'; type: string; bytes: Uint8Array };

/**
 * Cuts complete messages off the front of a client's byte stream. A message that has not fully
 * arrived stays buffered: a large Bind can span many socket reads, and forwarding half of it
 * (or someone else's message in between) would corrupt the single PGlite session.
 */
export class FrontendMessageReader {
  private buffer: Buffer = Buffer.alloc(0);
  private started = false;

  push(chunk: Buffer): FrontendMessage[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const messages: FrontendMessage[] = [];
    for (;;) {
      const message = this.started ? this.readTyped() : this.readUntyped();
      if (!message) return messages;
      messages.push(message);
    }
  }

  private readUntyped(): FrontendMessage | null {
    if (this.buffer.length < 8) return null;
    const length = this.buffer.readInt32BE(0);
    // PostgreSQL's own limit: anything else is not a PostgreSQL client (an HTTP request, say).
    if (length < 8 || length > 10_000) throw new Error(`invalid length of startup packet: ${length}`);
    if (this.buffer.length < length) return null;
    const code = this.buffer.readInt32BE(4);
    const bytes = this.take(length);
    if (code === sslRequestCode || code === gssEncRequestCode) return { kind: 'ssl-request' };
    if (code === cancelRequestCode) return { kind: 'cancel-request' };
    if (code !== protocolVersion3) throw new Error(`Unsupported protocol version ${code >> 16}.${code & 0xffff}`);
    this.started = true;
    return { kind: 'startup', bytes };
  }

  private readTyped(): FrontendMessage | null {
    if (this.buffer.length < 5) return null;
    const length = 1 + this.buffer.readInt32BE(1);
    if (length < 5) throw new Error(`invalid message length ${length - 1}`);
    if (this.buffer.length < length) return null;
    const bytes = this.take(length);
    return { kind: 'typed', type: String.fromCharCode(bytes[0]!), bytes };
  }

  private take(length: number): Uint8Array {
    // A copy: PGlite may keep the array while the buffer is reused for the next read.
    const bytes = new Uint8Array(this.buffer.subarray(0, length));
    this.buffer = this.buffer.subarray(length);
    return bytes;
  }
}

/** Transaction status carried by ReadyForQuery: idle, in a transaction block, or in a failed one. */
export type TransactionStatus = 'I' | 'T' | 'E';

/** What one answer of the backend holds for the server's bookkeeping. */
export interface InspectedAnswer {
  /** The answer minus NotificationResponse messages (those go to whoever listens). */
  forClient: Uint8Array;
  /** NotificationResponse messages, whole, with their channel. */
  notifications: { channel: string; message: Uint8Array }[];
  /** Status of the last ReadyForQuery in the answer, or null if it has none. */
  status: TransactionStatus | null;
}

/**
 * Walks the backend's answer to one batch (PGlite returns whole messages). The status of the last
 * ReadyForQuery is the only moment at which the session may pass to another client; NOTIFY
 * deliveries are cut out because, on a single session, they surface in the answer of whichever
 * client committed, not on the connection that listens.
 */
export function inspectAnswer(answer: Uint8Array): InspectedAnswer {
  const buf = Buffer.from(answer.buffer, answer.byteOffset, answer.byteLength);
  const notifications: InspectedAnswer['notifications'] = [];
  const kept: Buffer[] = [];
  let status: TransactionStatus | null = null;
  let keptFrom = 0;
  let i = 0;
  while (i + 5 <= buf.length) {
    const type = buf[i]!;
    const end = i + 1 + buf.readInt32BE(i + 1);
    if (end > buf.length) break; // not whole: passed on untouched below
    if (type === 0x5a /* Z */) status = String.fromCharCode(buf[i + 5]!) as TransactionStatus;
    if (type === 0x41 /* A */) {
      const channelEnd = buf.indexOf(0, i + 9);
      notifications.push({ channel: buf.toString('utf8', i + 9, channelEnd), message: buf.subarray(i, end) });
      kept.push(buf.subarray(keptFrom, i));
      keptFrom = end;
    }
    i = end;
  }
  if (notifications.length === 0) return { forClient: answer, notifications, status };
  kept.push(buf.subarray(keptFrom));
  return { forClient: Buffer.concat(kept), notifications, status };
}

/** LISTEN / UNLISTEN a client sent in a simple Query or a Parse, with the channel as PostgreSQL names it. */
export type ListenChange = { listen: boolean; channel: string | '*' };

export function listenChanges(batch: Uint8Array): ListenChange[] {
  const buf = Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength);
  const changes: ListenChange[] = [];
  let i = 0;
  while (i + 5 <= buf.length) {
    const type = buf[i]!;
    const end = i + 1 + buf.readInt32BE(i + 1);
    let sql: string | null = null;
    if (type === 0x51 /* Q */) sql = buf.toString('utf8', i + 5, end - 1);
    if (type === 0x50 /* P */) {
      const queryStart = buf.indexOf(0, i + 5) + 1;
      sql = buf.toString('utf8', queryStart, buf.indexOf(0, queryStart));
    }
    if (sql) {
      // Comments first: BullMQ's listen_jobs.sql opens with a comment block before its LISTEN.
      sql = stripComments(sql);
      for (const m of sql.matchAll(/(?:^|;)\s*(UN)?LISTEN\s+(\*|"(?:[^"]|"")+"|[A-Za-z_][\w$]*)/gi)) {
        const raw = m[2]!;
        const channel = raw === '*' ? '*' : raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw.toLowerCase();
        changes.push({ listen: !m[1], channel });
      }
    }
    i = end;
  }
  return changes;
}

/**
 * Named prepared statements and portals live in the backend session, which all clients share here:
 * two connections preparing "get_order" would collide (42P05), and one could run the other's.
 * Non-empty names in Parse, Bind, Describe, Close and Execute get the connection's own prefix;
 * unnamed ones (what TypeORM and BullMQ use) pass untouched, without copying. `prepared` collects
 * the statement names this batch creates, so they can be closed when the connection goes away.
 */
export function prefixStatementNames(batch: Uint8Array, prefix: string, prepared: Set<string>): Uint8Array {
  const buf = Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength);
  const parts: Buffer[] = [];
  let changed = false;
  let i = 0;
  while (i + 5 <= buf.length) {
    const type = String.fromCharCode(buf[i]!);
    const end = i + 1 + buf.readInt32BE(i + 1);
    const body = buf.subarray(i + 5, end);
    let names: number[] = []; // offsets in body of the C strings to prefix
    if (type === 'P' || type === 'E') names = [0];
    if (type === 'B') names = [0, body.indexOf(0) + 1];
    if ((type === 'D' || type === 'C') && body.length > 1) names = [1];
    names = names.filter((at) => body[at] !== 0);
    if (names.length === 0) {
      parts.push(buf.subarray(i, end));
    } else {
      const pieces: Buffer[] = [];
      let from = 0;
      for (const at of names) {
        const nameEnd = body.indexOf(0, at);
        pieces.push(body.subarray(from, at), Buffer.from(prefix, 'latin1'), body.subarray(at, nameEnd));
        if (type === 'P' || (type === 'C' && body[0] === 0x53)) {
          const name = prefix + body.toString('utf8', at, nameEnd);
          if (type === 'P') prepared.add(name);
          else prepared.delete(name);
        }
        from = nameEnd;
      }
      pieces.push(body.subarray(from));
      parts.push(frontendMessage(type, Buffer.concat(pieces)));
      changed = true;
    }
    i = end;
  }
  return changed ? Buffer.concat(parts) : batch;
}

/** Close (statement) messages for `names`, followed by a Sync. */
export function closeStatements(names: Iterable<string>): Uint8Array {
  const closes = [...names].map((name) => frontendMessage('C', Buffer.concat([Buffer.from('S'), Buffer.from(`${name}\0`)])));
  return Buffer.concat([...closes, syncMessage]);
}

const copyFromStdin = /(?:^|;)\s*COPY\b[^;]*?\bFROM\s+STDIN\b/i;
const copyRefusal = `DO $kassa$ BEGIN RAISE EXCEPTION 'COPY FROM STDIN is not supported by the embedded database (PGlite); use INSERT, or an external PostgreSQL' USING ERRCODE = 'feature_not_supported'; END $kassa$`;

/**
 * PGlite 0.5 aborts its whole WebAssembly instance on COPY … FROM STDIN arriving over the wire
 * (exit(1): every client would lose the database). Such a statement, in a simple Query or a
 * Parse, is swapped for one that makes PostgreSQL itself raise feature_not_supported, so the client
 * gets a normal error and the transaction state follows PostgreSQL's rules.
 */
export function refuseCopyFromStdin(batch: Uint8Array): Uint8Array {
  const buf = Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength);
  const parts: Buffer[] = [];
  let changed = false;
  let i = 0;
  while (i + 5 <= buf.length) {
    const type = buf[i]!;
    const end = i + 1 + buf.readInt32BE(i + 1);
    let replacement: Buffer | null = null;
    if (type === 0x51 /* Q */ && copyFromStdin.test(stripComments(buf.toString('utf8', i + 5, end - 1)))) {
      replacement = frontendMessage('Q', Buffer.from(`${copyRefusal}\0`));
    } else if (type === 0x50 /* P */) {
      const queryStart = buf.indexOf(0, i + 5) + 1;
      if (copyFromStdin.test(stripComments(buf.toString('utf8', queryStart, buf.indexOf(0, queryStart))))) {
        const name = buf.subarray(i + 5, queryStart);
        replacement = frontendMessage('P', Buffer.concat([name, Buffer.from(`${copyRefusal}\0`), Buffer.alloc(2)]));
      }
    }
    parts.push(replacement ?? buf.subarray(i, end));
    changed ||= replacement !== null;
    i = end;
  }
  return changed ? Buffer.concat(parts) : batch;
}

function stripComments(sql: string): string {
  return sql.replace(/--[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ');
}

function frontendMessage(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([header, body]);
}

/** An ErrorResponse (severity FATAL) for refusing a client before or instead of a session. */
export function errorResponse(sqlState: string, message: string): Buffer {
  const fields = Buffer.concat([
    field('S', 'FATAL'), field('V', 'FATAL'), field('C', sqlState), field('M', message), Buffer.from([0]),
  ]);
  const header = Buffer.alloc(5);
  header.write('E', 0, 'latin1');
  header.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([header, fields]);
}

function field(code: string, value: string): Buffer {
  return Buffer.concat([Buffer.from(code, 'latin1'), Buffer.from(value, 'utf8'), Buffer.from([0])]);
}

/** A Sync message: ends whatever extended-protocol sequence a vanished client left open. */
export const syncMessage = new Uint8Array([0x53, 0, 0, 0, 4]);

/** The name/value parameters of a StartupMessage (user, database, options, …). */
export function startupParameters(bytes: Uint8Array): Record<string, string> {
  const parts = Buffer.from(bytes.subarray(8)).toString('utf8').split('\0');
  const params: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length && parts[i] !== ''; i += 2) params[parts[i]!] = parts[i + 1]!;
  return params;
}

/**
 * The search_path a client asks for in its startup `options` ("-c search_path=a,b" or
 * "--search_path=a,b"), as node-postgres and BullMQ's PostgreSQL backend send it; null if none.
 */
export function searchPathFromOptions(options: string | undefined): string | null {
  if (!options) return null;
  const match = /(?:^|\s)(?:-c\s*|--)search_path=((?:\\.|[^\s\\])+)/.exec(options);
  if (!match) return null;
  const value = match[1]!.replace(/\\(.)/g, '$1');
  // Only schema lists: the value is replayed into SET on this client's behalf.
  if (!/^[\w$", ]+$/.test(value)) throw new Error(`Unsupported search_path in startup options: ${value}`);
  return value;
}
