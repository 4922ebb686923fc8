// Pure tests of the embedded server's protocol framing (no database): the parts whose mistakes
// would hand the PGlite session to another client at the wrong moment.
import {
  FrontendMessageReader, closeStatements, inspectAnswer, listenChanges, prefixStatementNames, refuseCopyFromStdin, searchPathFromOptions,
  startupParameters,
} from '../../src/db/embedded/wire-protocol';

function typed(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([header, body]);
}

function startup(params: Record<string, string>): Buffer {
  const body = Buffer.concat([...Object.entries(params).map(([k, v]) => Buffer.from(`${k}\0${v}\0`)), Buffer.from([0])]);
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(196608, 4);
  return Buffer.concat([head, body]);
}

describe('FrontendMessageReader', () => {
  it('answers SSL first, then reads the startup message and typed messages', () => {
    const reader = new FrontendMessageReader();
    const ssl = Buffer.alloc(8);
    ssl.writeInt32BE(8, 0);
    ssl.writeInt32BE(80877103, 4);
    const msgs = reader.push(Buffer.concat([ssl, startup({ user: 'postgres' }), typed('Q', Buffer.from('SELECT 1\0'))]));
    expect(msgs.map((m) => (m.kind === 'typed' ? m.type : m.kind))).toEqual(['ssl-request', 'startup', 'Q']);
  });

  it('holds back a message until all of it has arrived, across many socket reads', () => {
    const reader = new FrontendMessageReader();
    reader.push(startup({ user: 'postgres' }));
    const bind = typed('B', Buffer.alloc(70_000, 7));
    const stream = Buffer.concat([bind, typed('S')]);
    const seen: string[] = [];
    for (let i = 0; i < stream.length; i += 9_999) {
      for (const m of reader.push(stream.subarray(i, i + 9_999))) if (m.kind === 'typed') seen.push(`${m.type}:${m.bytes.length}`);
    }
    expect(seen).toEqual([`B:${bind.length}`, 'S:5']);
  });

  it('refuses what is not a PostgreSQL client: an HTTP request, a broken length', () => {
    expect(() => new FrontendMessageReader().push(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toThrow(/invalid length of startup packet/);
    const reader = new FrontendMessageReader();
    reader.push(startup({ user: 'postgres' }));
    expect(() => reader.push(Buffer.from([0x51, 0, 0, 0, 2]))).toThrow(/invalid message length 2/);
  });

  it('refuses a protocol version other than 3.0', () => {
    const bad = Buffer.alloc(8);
    bad.writeInt32BE(8, 0);
    bad.writeInt32BE(2 << 16, 4);
    expect(() => new FrontendMessageReader().push(bad)).toThrow(/Unsupported protocol version 2\.0/);
  });
});

describe('inspectAnswer', () => {
  const rfq = (status: string) => typed('Z', Buffer.from(status, 'latin1'));
  const notification = (channel: string, payload: string) => typed('A', Buffer.concat([Buffer.alloc(4), Buffer.from(`${channel}\0${payload}\0`)]));

  it('reports the status of the last ReadyForQuery, not a Z byte inside a data row', () => {
    const answer = Buffer.concat([typed('1'), typed('2'), typed('D', Buffer.from('Z'.repeat(40))), typed('C', Buffer.from('SELECT 1\0')), rfq('T')]);
    expect(inspectAnswer(answer)).toEqual({ forClient: answer, notifications: [], status: 'T' });
    expect(inspectAnswer(Buffer.concat([rfq('T'), typed('C', Buffer.from('COMMIT\0')), rfq('I')])).status).toBe('I');
    expect(inspectAnswer(typed('1')).status).toBeNull();
  });

  it('cuts NotificationResponses out of the answer and names their channel', () => {
    const note = notification('bull:emails', 'job-1');
    const head = Buffer.concat([typed('C', Buffer.from('NOTIFY\0'))]);
    const result = inspectAnswer(Buffer.concat([head, note, rfq('I')]));
    expect(Buffer.from(result.forClient)).toEqual(Buffer.concat([head, rfq('I')]));
    expect(result.notifications).toEqual([{ channel: 'bull:emails', message: note }]);
    expect(result.status).toBe('I');
  });
});

describe('listenChanges', () => {
  const query = (sql: string) => typed('Q', Buffer.from(`${sql}\0`));
  const parse = (sql: string) => typed('P', Buffer.from(`\0${sql}\0\0\0`));

  it('finds LISTEN and UNLISTEN in simple queries and in Parse, with PostgreSQL\'s identifier rules', () => {
    expect(listenChanges(Buffer.concat([query('LISTEN "bull:Emails"'), parse('unlisten Jobs'), query('SELECT 1; UNLISTEN *')]))).toEqual([
      { listen: true, channel: 'bull:Emails' }, { listen: false, channel: 'jobs' }, { listen: false, channel: '*' },
    ]);
    expect(listenChanges(query("SELECT 'LISTEN x'"))).toEqual([]);
    // BullMQ's listen_jobs.sql: comments before the statement
    expect(listenChanges(query('-- Subscribe to the shared channel\n/* block */ LISTEN bullmq_jobs;\n'))).toEqual([{ listen: true, channel: 'bullmq_jobs' }]);
  });
});

describe('refuseCopyFromStdin', () => {
  const query = (sql: string) => typed('Q', Buffer.from(`${sql}\0`));
  const parse = (name: string, sql: string) => typed('P', Buffer.concat([Buffer.from(`${name}\0${sql}\0`), Buffer.alloc(2)]));

  it('leaves everything else untouched, COPY TO STDOUT included', () => {
    const batch = Buffer.concat([query('COPY t TO STDOUT'), parse('', 'SELECT $1'), typed('S')]);
    expect(refuseCopyFromStdin(batch)).toBe(batch);
  });

  it('swaps COPY FROM STDIN, in a Query or a Parse, for a statement that raises feature_not_supported', () => {
    const out = Buffer.from(refuseCopyFromStdin(Buffer.concat([parse('s1', 'copy t from stdin'), typed('S'), query('COPY t (a) FROM STDIN CSV')])));
    const reader = new FrontendMessageReader();
    reader.push(startup({ user: 'postgres' }));
    const msgs = reader.push(out).map((m) => (m.kind === 'typed' ? { type: m.type, text: Buffer.from(m.bytes.subarray(5)).toString('utf8') } : null));
    expect(msgs.map((m) => m?.type)).toEqual(['P', 'S', 'Q']);
    expect(msgs[0]!.text.startsWith('s1\0DO $kassa$')).toBe(true); // the statement name is kept
    expect(msgs[2]!.text).toMatch(/USING ERRCODE = 'feature_not_supported'/);
  });
});

describe('prefixStatementNames', () => {
  const cstr = (v: string) => Buffer.from(`${v}\0`);
  const messages = (bytes: Uint8Array) => {
    const reader = new FrontendMessageReader();
    reader.push(startup({ user: 'postgres' }));
    return reader.push(Buffer.from(bytes)).map((m) => (m.kind === 'typed' ? `${m.type}:${Buffer.from(m.bytes.subarray(5)).toString('latin1')}` : m.kind));
  };

  it('passes unnamed statements and portals through without copying', () => {
    const batch = Buffer.concat([typed('P', Buffer.concat([cstr(''), cstr('SELECT 1'), Buffer.alloc(2)])), typed('B', Buffer.concat([cstr(''), cstr(''), Buffer.alloc(6)])),
      typed('D', Buffer.concat([Buffer.from('P'), cstr('')])), typed('E', Buffer.concat([cstr(''), Buffer.alloc(4)])), typed('S')]);
    const prepared = new Set<string>();
    expect(prefixStatementNames(batch, 'k1_', prepared)).toBe(batch);
    expect(prepared.size).toBe(0);
  });

  it('prefixes named statements and portals in Parse, Bind, Describe, Close and Execute, and tracks what is prepared', () => {
    const prepared = new Set<string>();
    const out = prefixStatementNames(Buffer.concat([
      typed('P', Buffer.concat([cstr('get_order'), cstr('SELECT $1'), Buffer.alloc(2)])),
      typed('B', Buffer.concat([cstr('cur'), cstr('get_order'), Buffer.alloc(6)])),
      typed('D', Buffer.concat([Buffer.from('S'), cstr('get_order')])),
      typed('E', Buffer.concat([cstr('cur'), Buffer.alloc(4)])),
      typed('C', Buffer.concat([Buffer.from('P'), cstr('cur')])),
      typed('S'),
    ]), 'k7_', prepared);
    expect(messages(out)).toEqual([
      'P:k7_get_order\0SELECT $1\0\0\0', 'B:k7_cur\0k7_get_order\0\0\0\0\0\0\0', 'D:Sk7_get_order\0', 'E:k7_cur\0\0\0\0\0', 'C:Pk7_cur\0', 'S:',
    ]);
    expect([...prepared]).toEqual(['k7_get_order']);
    prefixStatementNames(typed('C', Buffer.concat([Buffer.from('S'), cstr('get_order')])), 'k7_', prepared);
    expect(prepared.size).toBe(0);
    expect(messages(closeStatements(['k7_a']))).toEqual(['C:Sk7_a\0', 'S:']);
  });
});

describe('startup options', () => {
  it('reads the parameters and the search_path that pg and BullMQ send', () => {
    const params = startupParameters(startup({ user: 'postgres', database: 'postgres', options: '-c search_path="bullmq"' }));
    expect(params).toEqual({ user: 'postgres', database: 'postgres', options: '-c search_path="bullmq"' });
    expect(searchPathFromOptions(params.options)).toBe('"bullmq"');
    expect(searchPathFromOptions('-c search_path=t_1a2b,public')).toBe('t_1a2b,public');
    expect(searchPathFromOptions('--search_path=a,\\ b -c statement_timeout=0')).toBe('a, b');
    expect(searchPathFromOptions('-c statement_timeout=0')).toBeNull();
    expect(searchPathFromOptions(undefined)).toBeNull();
  });

  it('refuses a search_path that is not a plain schema list (it is replayed into SET)', () => {
    expect(() => searchPathFromOptions("-c search_path=public;DROP\\ TABLE\\ x")).toThrow(/Unsupported search_path/);
  });
});
