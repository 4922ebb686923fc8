import { ChargeRunService } from '@kassa/core/host';
import { ensureStripeCustomer, methodDetails } from '../../src/saved-methods/customers';
import { createStripeHarness, type StripeHarness } from '../support/stripe-harness';

/*
 * Payment plans charged through the Stripe plugin against the emulator: the off-session recipe
 * with a reused customer, Stripe's declines mapped to core's outcomes, one charge per instalment.
 */
describe('off-session instalments through Stripe', () => {
  let h: StripeHarness;
  beforeAll(async () => {
    h = await createStripeHarness({ price: 3000 });
    await h.core.plans.updateSettings(h.shop.event.id, { enabled: true, instalments: 2, intervalDays: 30 });
  });
  afterAll(async () => { await h.destroy(); });

  const system = { type: 'system' } as const;

  /** An order with a plan, its deposit paid, and the test card `alias` saved for the rest. */
  async function planWithCard(alias: string, email = `${alias}@example.org`) {
    const placed = await h.core.orders.placeOrder({ eventId: h.shop.event.id, email, positions: [{ productId: h.shop.product.id }], provider: 'stripe' });
    await h.core.plans.createPlan(placed.order.id, { provider: 'stripe', actor: system });
    const customer = await ensureStripeCustomer(h.rt, h.stripe, placed.order.id);
    const pm = await h.stripe.paymentMethods.attach(`pm_card_${alias}`, { customer });
    const method = await h.rt.payments.storedMethods.save(placed.order.id, { reference: pm.id, customerReference: customer, ...methodDetails(pm) });
    await h.core.plans.useMethod(placed.order.id, method.id, system);
    await h.core.payments.confirmPayment(placed.payment!.id, { actor: { type: 'provider', id: 'stripe' } });
    return { orderId: placed.order.id, customer, pm: pm.id };
  }

  const instalment = async (orderId: string) => (await h.core.plans.view(orderId))!.instalments[1]!;

  it('charges the saved card off-session, reusing the organizer\'s customer of the buyer, once', async () => {
    const a = await planWithCard('visa', 'same@example.org');
    const b = await planWithCard('mastercard', 'same@example.org');
    expect(b.customer).toBe(a.customer);
    expect((await h.stripe.customers.list({ email: 'same@example.org' })).data).toHaveLength(1);
    h.clock.advance({ days: 30 });
    await h.core.chargeRuns.run();
    for (const o of [a, b]) {
      expect((await instalment(o.orderId)).state).toBe('paid');
      expect((await h.core.orders.getSummary(o.orderId)).status).toBe('paid');
    }
    const i = await instalment(a.orderId);
    const intents = await h.stripe.paymentIntents.list({ customer: a.customer });
    const offSession = intents.data.filter((pi) => pi.metadata.kassa_payment_id === i.paymentId);
    expect(offSession).toHaveLength(1);
    expect(offSession[0]).toMatchObject({ status: 'succeeded', amount: 1500, payment_method: a.pm });
    // Running again (a retried job) charges nothing more.
    await h.core.chargeRuns.run();
    expect(h.emulator.chargeReport(h.secretKey, 'kassa_payment_id')).toMatchObject({ double_charges: 0 });
  });

  it('maps authentication required (4000 0027 6000 3184) and declines to core\'s outcomes', async () => {
    const auth = await planWithCard('authenticationRequired');
    // Cards that decline at attach (insufficient funds, stolen) cannot be saved; 0341 attaches and declines later.
    const hard = await planWithCard('chargeCustomerFail');
    h.clock.advance({ days: 30 });
    const run = await h.core.chargeRuns.run();
    expect(run).toMatchObject({ actionRequired: 2 });
    expect(await instalment(auth.orderId)).toMatchObject({ state: 'action_required', actionReason: 'authentication' });
    expect(await instalment(hard.orderId)).toMatchObject({ state: 'action_required', actionReason: 'hard_decline' });
    // The key Stripe saw is core's: the instalment's payment row and attempt.
    const i = await instalment(auth.orderId);
    expect(ChargeRunService.idempotencyKey(i.paymentId, 1)).toBe(`kassa-instalment-${i.paymentId}-1`);
  });

  it('the buyer replaces the card: the waiting instalment is charged with the new one at the next run', async () => {
    const o = await planWithCard('chargeCustomerFail', 'refresh@example.org');
    h.clock.advance({ days: 30 });
    await h.core.chargeRuns.run();
    expect((await instalment(o.orderId)).state).toBe('action_required');
    const fresh = await h.stripe.paymentMethods.attach('pm_card_visa', { customer: o.customer });
    const saved = await h.rt.payments.storedMethods.save(o.orderId, { reference: fresh.id, customerReference: o.customer, ...methodDetails(fresh) });
    await h.rt.payments.storedMethods.replacePlanMethod(o.orderId, saved.id);
    await h.core.chargeRuns.run();
    expect((await instalment(o.orderId)).state).toBe('paid');
    expect((await h.core.orders.getSummary(o.orderId)).status).toBe('paid');
  });

  it('removing a saved card detaches it at Stripe', async () => {
    const o = await planWithCard('visa', 'remove@example.org');
    const [method] = await h.rt.payments.storedMethods.listForOrder(o.orderId);
    await h.core.storedMethods.remove(o.orderId, method!.id, { type: 'buyer' });
    expect((await h.stripe.paymentMethods.retrieve(o.pm)).customer).toBeNull();
    expect(await h.rt.payments.storedMethods.listForOrder(o.orderId)).toEqual([]);
  });
});
