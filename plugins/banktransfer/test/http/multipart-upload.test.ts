import { createApiToken } from '@kassa/server';
import { createDemoShop, type DemoShop } from '../support/bank-harness';
import { mappings, sample } from '../support/samples';
import { createServerHarness, type ServerHarness } from '../support/server-harness';

/*
 * Statement upload as multipart/form-data, as the control panel's page and `curl -F` send it: the
 * file part is the statement, the other parts its options; CSRF for the control panel (header),
 * a token for the API; a bad, oversized, doubled or malformed upload is refused naming what, and
 * nothing is stored.
 */
describe('bank statement upload as multipart (HTTP)', () => {
  let h: ServerHarness;
  let a: DemoShop;
  let asA: { cookie: string; csrf: string };
  let token: string;
  const url = '/plugins/banktransfer/control/imports';
  const boundary = '----kassa-test-boundary';

  beforeAll(async () => {
    h = await createServerHarness();
    a = await createDemoShop(h, [{ code: 'Q7ZRX', status: 'pending', total: 2350 }]);
    asA = await h.signIn(a.shop.organizer.id);
    token = (await createApiToken(h.db.dataSource, a.shop.organizer.id, 'bank sync')).token;
  }, 30_000);
  afterAll(async () => { await h?.destroy(); });

  type Part = { name: string; value: string | Buffer; fileName?: string };
  const multipart = (parts: readonly Part[]): Buffer => Buffer.concat([
    ...parts.flatMap((p) => [
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.fileName ? `; filename="${p.fileName}"\r\nContent-Type: application/octet-stream` : ''}\r\n\r\n`),
      Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value), Buffer.from('\r\n'),
    ]),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
  const post = (parts: readonly Part[], headers: Record<string, string> = { cookie: asA.cookie, 'x-csrf-token': asA.csrf }, target = url) => h.app.inject({
    method: 'POST', url: target, headers: { ...headers, accept: 'application/json', 'content-type': `multipart/form-data; boundary=${boundary}` }, payload: multipart(parts),
  });
  const stored = async () => (await h.db.dataSource.query('SELECT count(*)::int AS n FROM banktransfer_import'))[0].n as number;

  it('takes the file part as the statement, with its name, and a new CSV mapping remembered once the file read with it', async () => {
    const res = await post([
      { name: 'file', value: Buffer.from(sample('csv-sparkasse.csv'), 'latin1'), fileName: 'umsaetze-dez.csv' },
      { name: 'csvMapping', value: JSON.stringify(mappings.sparkasse) }, { name: 'saveMappingAs', value: 'Sparkasse' },
    ]);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ format: 'csv', phase: 'queued', fileName: 'umsaetze-dez.csv', total: 4 });
    expect(h.enqueued.at(-1)).toMatchObject({ job: 'import', payload: { importId: res.json().id } });
    // Its page shows the progress and, while the job has not finished, updates itself (a script under the page's nonce).
    const status = await h.app.inject({ method: 'GET', url: res.json().url, headers: { cookie: asA.cookie } });
    expect(status.body).toContain('<span class="badge banktransfer-phase">queued</span>');
    expect(status.body).toContain(`data-status-url="${res.json().url}"`);
    const nonce = /<script nonce="([^"]+)">/.exec(status.body)?.[1];
    expect(String(status.headers['content-security-policy'])).toContain(`'nonce-${nonce}'`);
    const saved = await h.db.dataSource.query('SELECT name FROM banktransfer_csv_mapping WHERE organizer_id = $1', [a.shop.organizer.id]);
    expect(saved).toEqual([{ name: 'Sparkasse' }]);

    // The next upload names the saved mapping; an explicit fileName field wins over the file's.
    const again = await post([{ name: 'statement', value: sample('csv-sparkasse.csv'), fileName: 'x.csv' }, { name: 'mapping', value: 'Sparkasse' }, { name: 'fileName', value: 'december' }]);
    expect(again.statusCode).toBe(202);
    expect(again.json()).toMatchObject({ format: 'csv', fileName: 'december' });
  });

  it('the page sends the file as multipart, with the CSRF token in a header; a form with no file chosen sends the pasted text', async () => {
    const page = await h.app.inject({ method: 'GET', url, headers: { cookie: asA.cookie } });
    expect(page.body).toContain('enctype="multipart/form-data"');
    expect(page.body).toContain("'x-csrf-token'");
    const res = await post([{ name: 'file', value: Buffer.alloc(0), fileName: '' }, { name: 'statement', value: sample('camt053-demo.xml') }]);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ format: 'camt053' });
  });

  it('takes the same upload from an API token (no CSRF), and a pasted statement as a text part', async () => {
    const res = await post([{ name: 'statement', value: sample('mt940-demo.sta') }], { authorization: `Bearer ${token}` }, '/plugins/banktransfer/api/imports');
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ format: 'mt940', phase: 'queued' });
  });

  it('refuses a control-panel upload without the CSRF token, storing nothing', async () => {
    const before = await stored();
    const res = await post([{ name: 'file', value: sample('camt053-demo.xml'), fileName: 'dec.xml' }], { cookie: asA.cookie });
    expect(res.statusCode).toBe(403);
    const forged = await post([{ name: 'file', value: sample('camt053-demo.xml'), fileName: 'dec.xml' }, { name: '_csrf', value: asA.csrf }], { cookie: asA.cookie, 'x-csrf-token': 'forged' });
    expect(forged.statusCode).toBe(403);
    expect(await stored()).toBe(before);
  });

  it('refuses a bad file naming its line, and stores nothing (nor the mapping sent with it)', async () => {
    const before = await stored();
    const res = await post([
      { name: 'file', value: sample('csv-sparkasse-bad-amount.csv'), fileName: 'bad.csv' },
      { name: 'csvMapping', value: JSON.stringify(mappings.sparkasse) }, { name: 'saveMappingAs', value: 'Broken bank' },
    ]);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(/CSV statement, line 3: amount: "zwanzig" is not an amount/);
    expect(await stored()).toBe(before);
    expect(await h.db.dataSource.query(`SELECT name FROM banktransfer_csv_mapping WHERE name = 'Broken bank'`)).toEqual([]);
  });

  it('refuses an oversized file, two files, an empty file and a malformed form, each naming what, storing nothing', async () => {
    const before = await stored();
    const huge = await post([{ name: 'file', value: Buffer.alloc(1024 * 1024 + 10, 0x41), fileName: 'huge.xml' }]);
    expect(huge.statusCode).toBe(400);
    expect(huge.json().error.message).toMatch(/too large|larger than/);

    const two = await post([{ name: 'file', value: sample('camt053-demo.xml'), fileName: 'a.xml' }, { name: 'file2', value: sample('mt940-demo.sta'), fileName: 'b.sta' }]);
    expect(two.statusCode).toBe(400);
    expect(two.json().error).toMatchObject({ code: 'VALIDATION_FAILED', params: { field: 'statement' } });

    const empty = await post([{ name: 'file', value: Buffer.alloc(0), fileName: 'empty.xml' }]);
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.params).toMatchObject({ field: 'statement' });

    const malformed = await h.app.inject({
      method: 'POST', url, headers: { cookie: asA.cookie, 'x-csrf-token': asA.csrf, accept: 'application/json', 'content-type': 'multipart/form-data' }, payload: 'no boundary here',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.params).toMatchObject({ field: 'body' });
    expect(await stored()).toBe(before);
  });
});
