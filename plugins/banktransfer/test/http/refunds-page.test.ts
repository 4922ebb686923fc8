import { XMLParser } from 'fast-xml-parser';
import { pain001SchemaErrors } from '../../src';
import { createDemoShop, type DemoShop } from '../support/bank-harness';
import { createServerHarness, type ServerHarness } from '../support/server-harness';

/*
 * The control panel's page for bank transfer refunds: the organizer's refunds waiting to be paid
 * out, a SEPA file of the selected ones (valid against the pain.001.001.03 profile), mark done and
 * cancel, each scoped to the organizer and guarded by CSRF and the page's one-time key.
 */
describe('bank transfer refunds page (HTTP)', () => {
  let h: ServerHarness;
  let a: DemoShop;
  let b: DemoShop;
  let asA: { cookie: string; csrf: string };
  let asB: { cookie: string; csrf: string };
  const refundsOf: Record<string, string> = {};
  const base = '/plugins/banktransfer/control/refunds';

  /** Books a transfer from the buyer's account on the order, then refunds it: a manual refund in transit. */
  async function refundOf(shop: DemoShop, code: string, payer: { name: string; iban: string }): Promise<string> {
    const orderId = shop.orders[code]!;
    const total = (await h.db.dataSource.query('SELECT total::int AS total FROM kassa_order WHERE id = $1', [orderId]))[0].total as number;
    const payment = await h.rt.payments.receivedPayment(orderId, { provider: 'banktransfer', amount: { amount: total, currency: 'EUR' } });
    await h.rt.payments.confirm(payment.id, { info: { payerName: payer.name, payerIban: payer.iban } });
    const { refund } = await h.core.refunds.createRefund(orderId, { paymentId: payment.id, amount: { amount: total, currency: 'EUR' }, source: 'admin', actor: { type: 'system' } });
    expect(refund.state).toBe('transit');
    return refund.id;
  }

  beforeAll(async () => {
    h = await createServerHarness();
    a = await createDemoShop(h, [{ code: 'Q7ZRX', status: 'pending', total: 2350 }, { code: 'K3LMN', status: 'pending', total: 5000 }, { code: 'P8TWA', status: 'pending', total: 1500 }]);
    b = await createDemoShop(h, [{ code: 'BBBB5', status: 'pending', total: 500 }]);
    asA = await h.signIn(a.shop.organizer.id);
    asB = await h.signIn(b.shop.organizer.id);
    refundsOf.Q7ZRX = await refundOf(a, 'Q7ZRX', { name: 'Jana Müller', iban: 'DE02120300000000202051' });
    refundsOf.K3LMN = await refundOf(a, 'K3LMN', { name: 'Piet de Vries', iban: 'NL91ABNA0417164300' });
    refundsOf.P8TWA = await refundOf(a, 'P8TWA', { name: 'Anna Gruber', iban: 'AT611904300234573201' });
    refundsOf.BBBB5 = await refundOf(b, 'BBBB5', { name: 'Other Buyer', iban: 'DE02120300000000202051' });
  }, 30_000);
  afterAll(async () => { await h?.destroy(); });

  const get = (who: { cookie: string }, url: string, accept = 'text/html') => h.app.inject({ method: 'GET', url, headers: { cookie: who.cookie, accept } });
  const form = (who: { cookie: string }, url: string, fields: Record<string, string>) => h.app.inject({
    method: 'POST', url, headers: { cookie: who.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString(),
  });
  const stateOf = async (id: string) => (await h.db.dataSource.query('SELECT state FROM order_refund WHERE id = $1', [id]))[0].state as string;

  it('lists the organizer\'s refunds waiting to be paid out, with payee, IBAN and the forms (CSRF, one-time key), never another organizer\'s', async () => {
    const page = await get(asA, base);
    expect(page.statusCode).toBe(200);
    for (const text of ['DEMO-Q7ZRX', 'DEMO-K3LMN', 'DEMO-P8TWA', 'Jana Müller', 'NL91 ABNA 0417 1643 00', '€50.00', 'form="banktransfer-export"', `${base}/${refundsOf.Q7ZRX}/done`, `${base}/${refundsOf.Q7ZRX}/cancel`]) {
      expect(page.body).toContain(text);
    }
    expect(page.body.match(/name="_csrf" value="[^"]+"/g)!.length).toBeGreaterThanOrEqual(6);
    // One key for the page, in each of its forms.
    const keys = page.body.match(/name="_actionKey" value="([0-9a-f-]{36})"/g)!;
    expect([keys.length, new Set(keys).size]).toEqual([6, 1]);
    expect(page.body).not.toContain(refundsOf.BBBB5);
    const listed = (await get(asB, base, 'application/json')).json().refunds.map((r: { id: string }) => r.id);
    expect(listed).toEqual([refundsOf.BBBB5]);
  });

  it('exports the selected refunds as a SEPA file valid against pain.001.001.03; refuses another organizer\'s, unknown ids and bad dates', async () => {
    const res = await get(asA, `${base}/sepa.xml?executionDate=2026-12-10&refund=${refundsOf.Q7ZRX}&refund=${refundsOf.P8TWA}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="KR-[0-9a-f]{32}\.xml"$/);
    expect(await pain001SchemaErrors(res.body)).toEqual([]);
    const batch = new XMLParser({ isArray: (n) => n === 'CdtTrfTxInf', parseTagValue: false }).parse(res.body).Document.CstmrCdtTrfInitn.PmtInf;
    expect(batch.NbOfTxs).toBe('2');
    expect(batch.CtrlSum).toBe('38.50');
    expect(batch.CdtTrfTxInf.map((t: { RmtInf: { Ustrd: string } }) => t.RmtInf.Ustrd)).toEqual(['Refund DEMO-Q7ZRX', 'Refund DEMO-P8TWA']);

    // None selected: all of them.
    const all = await get(asA, `${base}/sepa.xml?executionDate=2026-12-10`);
    expect(all.body.match(/<CdtTrfTxInf>/g)).toHaveLength(3);

    const foreign = await get(asA, `${base}/sepa.xml?refund=${refundsOf.BBBB5}`, 'application/json');
    expect(foreign.statusCode).toBe(404);
    expect((await get(asA, `${base}/sepa.xml?refund=not-a-uuid`, 'application/json')).statusCode).toBe(404);
    const badDate = await get(asA, `${base}/sepa.xml?executionDate=2026-13-45`, 'application/json');
    expect(badDate.statusCode).toBe(400);
    expect(badDate.json().error.params).toMatchObject({ field: 'executionDate' });
  });

  it('marks a refund done and cancels another (forms with CSRF and the page\'s one-time key, back to the page); forged, foreign or repeated posts change nothing', async () => {
    const key = await h.pageKey(asA, base);
    expect((await form(asA, `${base}/${refundsOf.Q7ZRX}/done`, { _actionKey: key })).statusCode).toBe(403);
    expect((await form(asB, `${base}/${refundsOf.Q7ZRX}/done`, { _csrf: asB.csrf, _actionKey: key })).statusCode).toBe(404);
    expect((await form(asB, `${base}/${refundsOf.K3LMN}/cancel`, { _csrf: asB.csrf, _actionKey: key })).statusCode).toBe(404);
    expect(await stateOf(refundsOf.Q7ZRX!)).toBe('transit');

    const done = await form(asA, `${base}/${refundsOf.Q7ZRX}/done`, { _csrf: asA.csrf, _actionKey: key });
    expect([done.statusCode, done.headers.location]).toEqual([303, base]);
    expect(await stateOf(refundsOf.Q7ZRX!)).toBe('done');
    expect((await form(asA, `${base}/${refundsOf.Q7ZRX}/done`, { _csrf: asA.csrf, _actionKey: key })).statusCode).toBe(409);

    const next = await h.pageKey(asA, base);
    expect((await form(asA, `${base}/${refundsOf.K3LMN}/cancel`, { _actionKey: next })).statusCode).toBe(403);
    const canceled = await form(asA, `${base}/${refundsOf.K3LMN}/cancel`, { _csrf: asA.csrf, _actionKey: next });
    expect([canceled.statusCode, canceled.headers.location]).toEqual([303, base]);
    expect(await stateOf(refundsOf.K3LMN!)).toBe('canceled');
    expect((await form(asA, `${base}/${refundsOf.K3LMN}/cancel`, { _csrf: asA.csrf, _actionKey: next })).statusCode).toBe(409);

    const left = (await get(asA, base, 'application/json')).json().refunds.map((r: { id: string }) => r.id);
    expect(left).toEqual([refundsOf.P8TWA]);
    expect(await stateOf(refundsOf.BBBB5!)).toBe('transit');
  });
});
