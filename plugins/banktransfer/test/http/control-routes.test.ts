import { runImport } from '../../src';
import { createDemoShop, orderRow, paymentsOf, type DemoShop } from '../support/bank-harness';
import { sample } from '../support/samples';
import { createServerHarness, type ServerHarness } from '../support/server-harness';

/*
 * The control routes through the real server: upload (JSON, form with CSRF, raw file), the job's
 * result, the unmatched list, assign and discard, scoped to the signed-in organizer (another
 * organizer's import or transaction is "not found"), and a bad file refused naming its line with
 * nothing stored or booked.
 */
describe('bank transfer control routes (HTTP)', () => {
  let h: ServerHarness;
  let a: DemoShop;
  let b: DemoShop;
  let asA: { cookie: string; csrf: string };
  let asB: { cookie: string; csrf: string };
  const base = '/plugins/banktransfer/control';

  beforeAll(async () => {
    h = await createServerHarness();
    a = await createDemoShop(h, [{ code: 'Q7ZRX', status: 'pending', total: 2350 }, { code: 'K3LMN', status: 'pending', total: 5000 }]);
    b = await createDemoShop(h, [{ code: 'BBBB5', status: 'pending', total: 500 }]);
    asA = await h.signIn(a.shop.organizer.id);
    asB = await h.signIn(b.shop.organizer.id);
  }, 30_000);
  afterAll(async () => { await h?.destroy(); });

  const json = (who: { cookie: string }, method: 'GET' | 'POST', url: string, body?: unknown, key?: string) => h.app.inject({
    method, url, headers: {
      cookie: who.cookie, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(key ? { 'x-kassa-action-key': key } : {}),
    },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  // A money-moving post carries a one-time key of a page its user saw (the header, for a JSON call).
  const keyOfA = () => h.pageKey(asA, `${base}/unmatched`);
  const keyOfB = () => h.pageKey(asB, `/control/orders/${b.orders.BBBB5}`);
  const act = async (who: 'A' | 'B', url: string, body: unknown) => json(who === 'A' ? asA : asB, 'POST', url, body, await (who === 'A' ? keyOfA() : keyOfB()));
  const imports = async () => (await h.db.dataSource.query('SELECT count(*)::int AS n FROM banktransfer_import'))[0].n as number;

  it('the buyer\'s order page shows the transfer details: reference, exact amount, IBAN, BIC and the EPC QR code', async () => {
    const p = (await h.rt.payments.get(a.payments.K3LMN!))!;
    const page = await h.app.inject({ method: 'GET', url: new URL(h.rt.payments.orderPageUrl(p)).pathname });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('DEMO-K3LMN');
    expect(page.body).toMatch(/€\s?50\.00|50\.00\s?€/);
    expect(page.body).toContain('DE89 3704 0044 0532 0130 00');
    expect(page.body).toContain('COBADEFFXXX');
    expect(page.body).toMatch(/<svg[^>]*aria-label="EPC QR code for the transfer"/);
  });

  it('uploads a statement (JSON), enqueues its import once, and the job books it; the status page shows the progress', async () => {
    const res = await json(asA, 'POST', `${base}/imports`, { statement: sample('camt053-demo.xml'), fileName: 'dec.xml' });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toMatchObject({ format: 'camt053', phase: 'queued', total: 5, fileName: 'dec.xml' });
    expect(h.enqueued).toEqual([{ job: 'import', payload: { importId: body.id }, jobId: `import-${body.id}` }]);

    await runImport(h.rt, body.id);
    expect((await orderRow(h, a.orders.Q7ZRX!)).status).toBe('paid');
    const status = await json(asA, 'GET', `${base}/imports/${body.id}`);
    expect(status.json()).toMatchObject({ phase: 'finished', booked: 2, unmatched: 3 });
    const page = await h.app.inject({ method: 'GET', url: `${base}/imports/${body.id}`, headers: { cookie: asA.cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('finished');
    // Another organizer does not see it.
    expect((await json(asB, 'GET', `${base}/imports/${body.id}`)).statusCode).toBe(404);
  });

  it('the control panel\'s order page shows the transfer that booked a payment, with its flags', async () => {
    const page = await h.app.inject({ method: 'GET', url: `/control/orders/${a.orders.K3LMN}`, headers: { cookie: asA.cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('banktransfer-control');
    expect(page.body).toContain('DEMO-K3LMN');
    expect(page.body).toMatch(/<span class="badge badge-pending">partial<\/span>/);
    expect(page.body).toContain('href="/plugins/banktransfer/control/refunds"');
  });

  it('the upload page reads a chosen file with a script the page\'s CSP allows (its nonce)', async () => {
    const page = await h.app.inject({ method: 'GET', url: `${base}/imports`, headers: { cookie: asA.cookie } });
    expect(page.statusCode).toBe(200);
    const nonce = /<script nonce="([^"]+)">/.exec(page.body)?.[1];
    expect(nonce).toBeTruthy();
    expect(String(page.headers['content-security-policy'])).toContain(`'nonce-${nonce}'`);
    expect(page.body).toContain('type="file"');
  });

  it('a form upload needs the CSRF token', async () => {
    const before = await imports();
    const form = (fields: Record<string, string>) => h.app.inject({
      method: 'POST', url: `${base}/imports`, headers: { cookie: asA.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString(),
    });
    expect((await form({ statement: sample('mt940-demo.sta') })).statusCode).toBe(403);
    expect(await imports()).toBe(before);
    const ok = await form({ statement: sample('mt940-demo.sta'), _csrf: asA.csrf });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toMatch(/\/plugins\/banktransfer\/control\/imports\/[0-9a-f-]{36}$/);
    expect(await imports()).toBe(before + 1);
  });

  it('a bad file is answered 400 naming the line; nothing is stored or booked', async () => {
    const before = await imports();
    const payments = await h.db.dataSource.query('SELECT count(*)::int AS n FROM order_payment');
    const res = await h.app.inject({
      method: 'POST', url: `${base}/imports`, headers: { cookie: asA.cookie, accept: 'application/json', 'content-type': 'text/plain', 'x-csrf-token': asA.csrf },
      payload: sample('mt940-bad-line.sta'),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'BANKTRANSFER_STATEMENT_INVALID', message: expect.stringMatching(/line \d+/) });
    expect(await imports()).toBe(before);
    expect(await h.db.dataSource.query('SELECT count(*)::int AS n FROM order_payment')).toEqual(payments);
  });

  it('assigns an unmatched transfer to an order by code, only within the organizer; discards one with a reason', async () => {
    const list = (await json(asA, 'GET', `${base}/unmatched`)).json().transactions as { id: string; amount: number; reason: string }[];
    const fee = list.find((t) => t.amount === 500)!;
    const debit = list.find((t) => t.amount < 0)!;
    expect(fee.reason).toBe('no-order');
    // Organizer B sees none of A's, and cannot act on them.
    expect((await json(asB, 'GET', `${base}/unmatched`)).json().transactions).toEqual([]);
    expect((await act('B', `${base}/transactions/${fee.id}/assign`, { code: 'BBBB5' })).statusCode).toBe(404);
    expect((await act('B', `${base}/transactions/${fee.id}/discard`, { reason: 'mine' })).statusCode).toBe(404);
    // A cannot book its transfer on B's order.
    expect((await act('A', `${base}/transactions/${fee.id}/assign`, { code: 'BBBB5' })).statusCode).toBe(404);
    expect((await paymentsOf(h, b.orders.BBBB5!)).filter((p) => p.state === 'confirmed')).toEqual([]);

    const assigned = await act('A', `${base}/transactions/${fee.id}/assign`, { code: 'demo-k3lmn' });
    expect(assigned.statusCode).toBe(200);
    expect(assigned.json()).toMatchObject({ state: 'assigned', flags: ['partial'] });
    const booked = (await paymentsOf(h, a.orders.K3LMN!)).filter((p) => p.state === 'confirmed');
    expect(booked.map((p) => [p.amount, p.info.assignedBy])).toEqual([[2000, 'import'], [500, 'organizer']]);
    // A second click (a fresh key: another tab) finds it closed.
    const again = await act('A', `${base}/transactions/${fee.id}/assign`, { code: 'K3LMN' });
    expect([again.statusCode, again.json().error.code]).toEqual([409, 'BANKTRANSFER_TRANSACTION_CLOSED']);

    expect((await act('A', `${base}/transactions/${debit.id}/discard`, {})).statusCode).toBe(400);
    const discarded = await act('A', `${base}/transactions/${debit.id}/discard`, { reason: 'bank fee' });
    expect(discarded.json()).toMatchObject({ state: 'discarded', reason: 'bank fee' });
    expect((await json(asA, 'GET', `${base}/unmatched`)).json().transactions.map((t: { id: string }) => t.id)).not.toContain(debit.id);
  });

  it('exports the refunds waiting to be paid out as a SEPA file, and marks one done, per organizer', async () => {
    const [paid] = (await paymentsOf(h, a.orders.Q7ZRX!)).filter((p) => p.state === 'confirmed');
    const { refund } = await h.core.refunds.createRefund(a.orders.Q7ZRX!, { paymentId: paid!.id, amount: { amount: 2350, currency: 'EUR' }, source: 'admin', actor: { type: 'system' } });
    expect(refund.state).toBe('transit');

    const file = await h.app.inject({ method: 'GET', url: `${base}/refunds/sepa.xml?executionDate=2026-12-10`, headers: { cookie: asA.cookie } });
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toMatch(/^application\/xml/);
    expect(file.body).toContain(`<EndToEndId>KASSA-REFUND-${refund.id.replace(/-/g, '').slice(0, 22).toUpperCase()}</EndToEndId>`);
    expect(file.body).toContain('<InstdAmt Ccy="EUR">23.50</InstdAmt>');
    expect(file.body).toContain('Refund DEMO-Q7ZRX');
    expect(file.body).toContain('<ReqdExctnDt>2026-12-10</ReqdExctnDt>');
    // B has no refunds to pay out, and cannot settle A's.
    const none = await h.app.inject({ method: 'GET', url: `${base}/refunds/sepa.xml`, headers: { cookie: asB.cookie, accept: 'application/json' } });
    expect([none.statusCode, none.json().error.code]).toEqual([400, 'BANKTRANSFER_SEPA_INVALID']);
    expect((await act('B', `${base}/refunds/${refund.id}/done`, {})).statusCode).toBe(404);

    const done = await act('A', `${base}/refunds/${refund.id}/done`, {});
    expect(done.json()).toEqual({ id: refund.id, state: 'done' });
    const again = await act('A', `${base}/refunds/${refund.id}/done`, {});
    expect([again.statusCode, again.json().error.code]).toEqual([409, 'BANKTRANSFER_REFUND_SETTLED']);
  });

  it('a form post without the CSRF token changes nothing', async () => {
    const list = (await json(asA, 'GET', `${base}/unmatched`)).json().transactions as { id: string }[];
    expect(list.length).toBeGreaterThan(0);
    const res = await h.app.inject({
      method: 'POST', url: `${base}/transactions/${list[0]!.id}/discard`, headers: { cookie: asA.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ reason: 'forged' }).toString(),
    });
    expect(res.statusCode).toBe(403);
    expect((await json(asA, 'GET', `${base}/unmatched`)).json().transactions.map((t: { id: string }) => t.id)).toContain(list[0]!.id);
  });
});
