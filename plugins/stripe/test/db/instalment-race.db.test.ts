import type Stripe from 'stripe';
import { paymentLinkToken } from '../../src/intents';
import { handleIntent, handleReturn } from '../../src/routes/checkout-routes';
import { ensureStripeCustomer, methodDetails } from '../../src/saved-methods/customers';
import { buyerConfirms, createStripeHarness, httpRequest, type StripeHarness } from '../support/stripe-harness';

/*
 * The buyer paying an instalment on-session (from the emailed link) and the charge run charging
 * the same instalment off-session, at the same time, against the emulator: exactly one charge
 * succeeds. The buyer's pay page holds the instalment against runs, and both paths use the
 * payment's one PaymentIntent, so whichever comes second finds the money taken.
 */
describe('on-session payment and charge run of the same instalment', () => {
  let h: StripeHarness;
  beforeAll(async () => {
    h = await createStripeHarness({ price: 3000 });
    await h.core.plans.updateSettings(h.shop.event.id, { enabled: true, instalments: 2, intervalDays: 30 });
  });
  afterAll(async () => { await h.destroy(); });

  const system = { type: 'system' } as const;

  /** An order with a plan, its deposit paid, the card saved; its second instalment (due in 30 days). */
  async function planWithCard(email: string) {
    const placed = await h.core.orders.placeOrder({ eventId: h.shop.event.id, email, positions: [{ productId: h.shop.product.id }], provider: 'stripe' });
    await h.core.plans.createPlan(placed.order.id, { provider: 'stripe', actor: system });
    const customer = await ensureStripeCustomer(h.rt, h.stripe, placed.order.id);
    const pm = await h.stripe.paymentMethods.attach('pm_card_visa', { customer });
    const method = await h.rt.payments.storedMethods.save(placed.order.id, { reference: pm.id, customerReference: customer, ...methodDetails(pm) });
    await h.core.plans.useMethod(placed.order.id, method.id, system);
    await h.core.payments.confirmPayment(placed.payment!.id, { actor: { type: 'provider', id: 'stripe' } });
    const second = (await h.core.plans.view(placed.order.id))!.instalments[1]!;
    return { orderId: placed.order.id, paymentId: second.paymentId, instalmentId: second.id, secret: placed.order.secret };
  }

  /** The buyer on the pay page: asks our intent endpoint for the client secret (null: refused). */
  async function buyerOpens(o: { paymentId: string; secret: string }): Promise<string | null> {
    const params = { paymentId: o.paymentId, token: paymentLinkToken({ secret: o.secret }, o.paymentId) };
    const res = await handleIntent(httpRequest(params, { body: {} as never }), h.rt);
    if (!('status' in res) || res.status !== 200) return null;
    return String(((res as { body: unknown }).body as { clientSecret: string }).clientSecret).split('_secret_')[0]!;
  }

  /** The buyer confirms (what Stripe.js does) and comes back to the return route. */
  async function buyerPays(o: { paymentId: string; secret: string }, intentId: string): Promise<Stripe.PaymentIntent> {
    const pi = await buyerConfirms(h, intentId, 'pm_card_visa');
    await handleReturn(httpRequest({ paymentId: o.paymentId, token: paymentLinkToken({ secret: o.secret }, o.paymentId) }), h.rt);
    return pi;
  }

  /** Succeeded charges at the emulator for one payment row. */
  async function chargesOf(paymentId: string): Promise<number> {
    const all = await h.stripe.charges.list({ limit: 100 }).autoPagingToArray({ limit: 10_000 });
    return all.filter((c) => c.metadata.kassa_payment_id === paymentId && c.status === 'succeeded').length;
  }

  async function settle(o: { orderId: string }) {
    return (await h.core.plans.view(o.orderId))!.instalments[1]!;
  }

  it('buyer and charge run at once, several times over: one charge per instalment, the instalment paid', async () => {
    const orders = [];
    for (let k = 0; k < 6; k++) orders.push(await planWithCard(`race-${k}@example.org`));
    h.clock.advance({ days: 30 });
    await Promise.all(orders.map(async (o, k) => {
      const buyer = async () => {
        const intentId = await buyerOpens(o);
        if (intentId) await buyerPays(o, intentId);
      };
      const run = () => h.core.chargeRuns.run({ onlyIds: [o.instalmentId] });
      // Alternate who starts first; both are in flight together.
      await Promise.all(k % 2 === 0 ? [buyer(), run()] : [run(), buyer()]);
    }));
    for (const o of orders) {
      expect(await chargesOf(o.paymentId)).toBe(1);
      expect((await settle(o)).state).toBe('paid');
      expect((await h.core.orders.getSummary(o.orderId)).status).toBe('paid');
    }
    expect(h.emulator.chargeReport(h.secretKey, 'kassa_payment_id')).toMatchObject({ double_charges: 0 });
  });

  it('while the buyer holds the instalment, a charge run leaves it alone; the buyer pays it once', async () => {
    const o = await planWithCard('held@example.org');
    h.clock.advance({ days: 30 });
    const intentId = await buyerOpens(o);
    expect(intentId).toMatch(/^pi_/);
    expect(await h.core.chargeRuns.run({ onlyIds: [o.instalmentId] })).toMatchObject({ claimed: 0 });
    await buyerPays(o, intentId!);
    expect(await chargesOf(o.paymentId)).toBe(1);
    expect((await settle(o)).state).toBe('paid');
  });

  it('after the buyer\'s hold ran out, the run completes the buyer\'s own intent: racing their confirm, one charge', async () => {
    const o = await planWithCard('late@example.org');
    h.clock.advance({ days: 30 });
    const intentId = await buyerOpens(o);
    h.clock.advance({ minutes: 31 });
    const [, run] = await Promise.all([buyerPays(o, intentId!), h.core.chargeRuns.run({ onlyIds: [o.instalmentId] })]);
    expect(run.claimed).toBe(1);
    expect(await chargesOf(o.paymentId)).toBe(1);
    // Only one PaymentIntent was ever made for the instalment's payment.
    const intents = (await h.stripe.paymentIntents.list({ limit: 100 })).data.filter((pi) => pi.metadata.kassa_payment_id === o.paymentId);
    expect(intents.map((pi) => pi.id)).toEqual([intentId]);
    expect((await settle(o)).state).toBe('paid');
  });

  it('while a run holds the instalment (or its outcome is unknown), the buyer is asked to come back, and no intent is handed out', async () => {
    const o = await planWithCard('busy@example.org');
    h.clock.advance({ days: 30 });
    // A run that claimed it and has not reported back (crashed or in flight): its token is on the row.
    await h.db.dataSource.query(`UPDATE plan_instalment SET claimed_by = 'a-run', lease_until = $2 WHERE id = $1`, [o.instalmentId, new Date(h.clock.now().getTime() + 60_000)]);
    const params = { paymentId: o.paymentId, token: paymentLinkToken({ secret: o.secret }, o.paymentId) };
    const res = await handleIntent(httpRequest(params, { body: {} as never }), h.rt);
    expect(res.status).toBe(409);
    expect(((res as { body: unknown }).body as { error: { code: string } }).error.code).toBe('INSTALMENT_BUSY');
    expect((await h.stripe.paymentIntents.list({ limit: 100 })).data.filter((pi) => pi.metadata.kassa_payment_id === o.paymentId)).toHaveLength(0);
  });
});
