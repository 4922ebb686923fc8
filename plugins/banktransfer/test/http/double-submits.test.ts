import { snapshotRows } from '@kassa/testing';
import { runImport } from '../../src';
import { createDemoShop, paymentsOf, type DemoShop } from '../support/bank-harness';
import { sample } from '../support/samples';
import { createServerHarness, type ServerHarness } from '../support/server-harness';

/*
 * Double, parallel, replayed and stale submits of the bank transfer control forms that move money
 * or settle a refund (assign a statement line to an order, discard one, mark a refund done,
 * cancel it), through the real server: each form carries its page's one-time key, so the same
 * form sent again acts once and the repeat is refused with a clear message, nothing written.
 */
describe('bank transfer control forms: double submits (HTTP)', () => {
  let h: ServerHarness;
  let a: DemoShop;
  let b: DemoShop;
  let asA: { cookie: string; csrf: string };
  let asB: { cookie: string; csrf: string };
  const base = '/plugins/banktransfer/control';
  const replayed = 'This form was already submitted or has expired, so nothing was done again';

  beforeAll(async () => {
    h = await createServerHarness();
    a = await createDemoShop(h, [{ code: 'Q7ZRX', status: 'pending', total: 2350 }, { code: 'K3LMN', status: 'pending', total: 5000 }, { code: 'H9JCD', status: 'pending', total: 10000 }]);
    b = await createDemoShop(h, [{ code: 'BBBB5', status: 'pending', total: 500 }]);
    asA = await h.signIn(a.shop.organizer.id);
    asB = await h.signIn(b.shop.organizer.id);
    // The demo statements leave transfers no order of A's was found for (credits and a debit).
    for (const file of ['camt053-demo.xml', 'mt940-demo.sta']) {
      const imp = await h.app.inject({
        method: 'POST', url: `${base}/imports`, headers: { cookie: asA.cookie, accept: 'application/json', 'content-type': 'application/json' },
        payload: JSON.stringify({ statement: sample(file) }),
      });
      expect(imp.statusCode).toBe(202);
      await runImport(h.rt, imp.json().id);
    }
  }, 30_000);
  afterAll(async () => { await h?.destroy(); });

  /** A form post as the browser sends it (CSRF token of the session, the page's fields). */
  const form = (who: { cookie: string; csrf: string }, url: string, fields: Record<string, string>) => h.app.inject({
    method: 'POST', url, headers: { cookie: who.cookie, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: who.csrf, ...fields }).toString(),
  });
  const unmatchedPage = () => h.pageKey(asA, `${base}/unmatched`);
  const unmatched = async () => (await h.app.inject({ method: 'GET', url: `${base}/unmatched`, headers: { cookie: asA.cookie, accept: 'application/json' } }))
    .json().transactions as { id: string; amount: number }[];
  /** An unmatched credit (money in) still waiting for a decision. */
  const credit = async () => (await unmatched()).find((t) => t.amount > 0)!;
  /** Everything a booking or a settlement writes: core's rows and the plugin's statement lines. */
  const written = async () => ({
    core: await snapshotRows(h.db.dataSource),
    lines: await h.db.dataSource.query('SELECT id, state, reason, booked_at FROM banktransfer_transaction ORDER BY id'),
  });
  const bookedByOrganizer = async (orderId: string) => (await paymentsOf(h, orderId)).filter((p) => p.state === 'confirmed' && p.info.assignedBy === 'organizer');

  it('the unmatched page hands every form the same fresh one-time key, a new one per rendering', async () => {
    const page = await h.app.inject({ method: 'GET', url: `${base}/unmatched`, headers: { cookie: asA.cookie } });
    const keys = [...page.body.matchAll(/name="_actionKey" value="([0-9a-f-]{36})"/g)].map((m) => m[1]);
    expect(keys.length).toBe(2 * (await unmatched()).length);
    expect(new Set(keys).size).toBe(1);
    expect(await unmatchedPage()).not.toBe(keys[0]);
  });

  it('assigning a statement line, submitted twice, books it once: the second submit is refused (409, clear message), nothing written', async () => {
    const line = await credit();
    const key = await unmatchedPage();
    const first = await form(asA, `${base}/transactions/${line.id}/assign`, { code: 'DEMO-K3LMN', _actionKey: key });
    expect([first.statusCode, first.headers.location]).toEqual([303, `${base}/unmatched`]);
    const before = await written();
    const second = await form(asA, `${base}/transactions/${line.id}/assign`, { code: 'DEMO-K3LMN', _actionKey: key });
    expect(second.statusCode).toBe(409);
    expect(second.body).toContain(replayed);
    expect(await written()).toEqual(before);
    expect((await bookedByOrganizer(a.orders.K3LMN!)).map((p) => p.amount)).toEqual([line.amount]);
  });

  it('the same assign sent three times at once books the line once', async () => {
    const line = await credit();
    const key = await unmatchedPage();
    const answers = await Promise.all([1, 2, 3].map(() => form(asA, `${base}/transactions/${line.id}/assign`, { code: 'Q7ZRX', _actionKey: key })));
    expect(answers.map((r) => r.statusCode).sort()).toEqual([303, 409, 409]);
    expect((await bookedByOrganizer(a.orders.Q7ZRX!)).map((p) => p.amount)).toEqual([line.amount]);
  });

  it('a stale form (the line assigned meanwhile in another tab) is refused clearly; nothing written; its key stays usable', async () => {
    const line = await credit();
    const tab1 = await unmatchedPage();
    const tab2 = await unmatchedPage();
    expect((await form(asA, `${base}/transactions/${line.id}/assign`, { code: 'H9JCD', _actionKey: tab1 })).statusCode).toBe(303);
    const before = await written();
    const stale = await form(asA, `${base}/transactions/${line.id}/discard`, { reason: 'not ours', _actionKey: tab2 });
    expect(stale.statusCode).toBe(409);
    expect(stale.body).toContain(`Transaction ${line.id} was already assigned: nothing was changed`);
    expect(await written()).toEqual(before);
    expect((await bookedByOrganizer(a.orders.H9JCD!)).map((p) => p.amount)).toEqual([line.amount]);
    // That refusal moved nothing, so the tab's key was given back: its next form still works.
    const debit = (await unmatched()).find((t) => t.amount < 0)!;
    expect((await form(asA, `${base}/transactions/${debit.id}/discard`, { reason: 'bank fee', _actionKey: tab2 })).statusCode).toBe(303);
    expect((await form(asA, `${base}/transactions/${debit.id}/discard`, { reason: 'bank fee', _actionKey: tab2 })).statusCode).toBe(409);
  });

  it('no key, a made-up key or another organizer\'s key: refused, nothing written; another organizer\'s key stays theirs', async () => {
    const line = await credit();
    const theirs = await h.pageKey(asB, `/control/orders/${b.orders.BBBB5}`);
    const before = await written();
    const attempts: Record<string, string>[] = [{}, { _actionKey: '00000000-0000-4000-8000-000000000000' }, { _actionKey: 'not-a-key' }, { _actionKey: theirs }];
    for (const fields of attempts) {
      const res = await form(asA, `${base}/transactions/${line.id}/assign`, { code: 'K3LMN', ...fields });
      expect([fields, res.statusCode]).toEqual([fields, 409]);
      expect(res.body).toContain(replayed);
    }
    expect(await written()).toEqual(before);
    // B's key was not used up by A's attempt: B acts with it (on A's line: not found, nothing written).
    const mine = await form(asB, `${base}/transactions/${line.id}/discard`, { reason: 'x', _actionKey: theirs });
    expect(mine.statusCode).toBe(404);
    expect(await written()).toEqual(before);
  });

  describe('refunds paid out by bank transfer', () => {
    /** A transfer booked on the order and refunded: a refund in transit. */
    async function refundInTransit(code: string): Promise<{ orderId: string; refundId: string }> {
      const orderId = a.orders[code]!;
      const payment = await h.rt.payments.receivedPayment(orderId, { provider: 'banktransfer', amount: { amount: 1000, currency: 'EUR' } });
      await h.rt.payments.confirm(payment.id, { info: { payerName: 'Jana Müller', payerIban: 'DE02120300000000202051' } });
      const { refund } = await h.core.refunds.createRefund(orderId, { paymentId: payment.id, amount: { amount: 1000, currency: 'EUR' }, source: 'admin', actor: { type: 'system' } });
      expect(refund.state).toBe('transit');
      return { orderId, refundId: refund.id };
    }
    const stateOf = async (id: string) => (await h.db.dataSource.query('SELECT state FROM order_refund WHERE id = $1', [id]))[0].state as string;
    const refundsPage = () => h.pageKey(asA, `${base}/refunds`);

    it('"mark done" submitted twice settles the refund once; the replay is refused (409, clear message), nothing written', async () => {
      const { orderId, refundId } = await refundInTransit('K3LMN');
      const key = await refundsPage();
      expect((await form(asA, `${base}/refunds/${refundId}/done`, { _actionKey: key })).statusCode).toBe(303);
      const before = await written();
      // The same key on the other button of the page (cancel) is spent as well.
      for (const action of ['done', 'cancel']) {
        const again = await form(asA, `${base}/refunds/${refundId}/${action}`, { _actionKey: key });
        expect(again.statusCode).toBe(409);
        expect(again.body).toContain(replayed);
      }
      expect(await written()).toEqual(before);
      expect(await stateOf(refundId)).toBe('done');
      const logged = await h.db.dataSource.query(`SELECT count(*)::int AS n FROM log_entry WHERE action = 'kassa.order.refund.done' AND order_id = $1`, [orderId]);
      expect(logged).toEqual([{ n: 1 }]);
    });

    it('sent three times at once, cancel acts once', async () => {
      const { refundId } = await refundInTransit('Q7ZRX');
      const key = await refundsPage();
      const answers = await Promise.all([1, 2, 3].map(() => form(asA, `${base}/refunds/${refundId}/cancel`, { _actionKey: key })));
      expect(answers.map((r) => r.statusCode).sort()).toEqual([303, 409, 409]);
      expect(await stateOf(refundId)).toBe('canceled');
    });

    it('a stale form (settled meanwhile in another tab) is refused with a clear message; nothing written', async () => {
      const { refundId } = await refundInTransit('H9JCD');
      const tab1 = await refundsPage();
      const tab2 = await refundsPage();
      expect((await form(asA, `${base}/refunds/${refundId}/done`, { _actionKey: tab1 })).statusCode).toBe(303);
      const before = await written();
      const stale = await form(asA, `${base}/refunds/${refundId}/cancel`, { _actionKey: tab2 });
      expect(stale.statusCode).toBe(409);
      expect(stale.body).toContain('no longer waits to be paid out by bank transfer (marked done or canceled meanwhile): nothing was changed');
      expect(await written()).toEqual(before);
      expect(await stateOf(refundId)).toBe('done');
    });

    it('takes the key of its own order\'s page, never another order\'s; another organizer finds no such refund and cannot spend the key', async () => {
      const { orderId, refundId } = await refundInTransit('K3LMN');
      const otherOrderKey = await h.pageKey(asA, `/control/orders/${a.orders.Q7ZRX}`);
      const before = await written();
      const foreign = await form(asA, `${base}/refunds/${refundId}/done`, { _actionKey: otherOrderKey });
      expect(foreign.statusCode).toBe(409);
      expect((await form(asB, `${base}/refunds/${refundId}/done`, { _actionKey: otherOrderKey })).statusCode).toBe(404);
      expect(await written()).toEqual(before);
      const ownOrderKey = await h.pageKey(asA, `/control/orders/${orderId}`);
      expect((await form(asA, `${base}/refunds/${refundId}/done`, { _actionKey: ownOrderKey })).statusCode).toBe(303);
      expect(await stateOf(refundId)).toBe('done');
    });
  });
});
