import type { PluginHttpRequest } from '@kassa/core';
import { handleCardRefreshPage, handleCardReturn, handleCardSetup, cardRefreshUrl } from '../../src/routes/card-refresh-routes';
import { ensureStripeCustomer, methodDetails } from '../../src/saved-methods/customers';
import { applyMethodEvent } from '../../src/saved-methods/method-events';
import { auditSetups } from '../../src/saved-methods/setup-audit-job';
import { refreshLinkToken } from '../../src/saved-methods/setup-intents';
import { createStripeHarness, type StripeHarness } from '../support/stripe-harness';

/*
 * The card refresh page's routes (SetupIntent, then the new card replaces the old one for the
 * remaining instalments), the audit of SetupIntents left unfinished, and payment_method events.
 */
describe('card refresh, SetupIntent audit and payment method events', () => {
  let h: StripeHarness;
  beforeAll(async () => {
    h = await createStripeHarness({ price: 3000 });
    await h.core.plans.updateSettings(h.shop.event.id, { enabled: true, instalments: 2, intervalDays: 30 });
  });
  afterAll(async () => { await h.destroy(); });

  const system = { type: 'system' } as const;
  const req = (paymentId: string, token: string): PluginHttpRequest<{ paymentId: string; token: string }> =>
    ({ method: 'GET', params: { paymentId, token }, query: {}, headers: {}, rawBody: Buffer.alloc(0) }) as unknown as PluginHttpRequest<{ paymentId: string; token: string }>;

  async function failingPlan(email: string) {
    const placed = await h.core.orders.placeOrder({ eventId: h.shop.event.id, email, positions: [{ productId: h.shop.product.id }], provider: 'stripe' });
    await h.core.plans.createPlan(placed.order.id, { provider: 'stripe', actor: system });
    const customer = await ensureStripeCustomer(h.rt, h.stripe, placed.order.id);
    const pm = await h.stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer });
    const method = await h.rt.payments.storedMethods.save(placed.order.id, { reference: pm.id, customerReference: customer, ...methodDetails(pm) });
    await h.core.plans.useMethod(placed.order.id, method.id, system);
    await h.core.payments.confirmPayment(placed.payment!.id, { actor: { type: 'provider', id: 'stripe' } });
    h.clock.advance({ days: 30 });
    await h.core.chargeRuns.run();
    const view = (await h.core.plans.view(placed.order.id))!;
    return { order: placed.order, customer, pm: pm.id, instalment: view.instalments[1]! };
  }

  it('the buyer saves a new card on the refresh page; the waiting instalment is charged with it', async () => {
    const { order, instalment } = await failingPlan('refresh@example.org');
    expect(instalment.state).toBe('action_required');
    const token = refreshLinkToken(order, instalment.paymentId);
    expect(cardRefreshUrl('http://k', order, instalment.paymentId)).toBe(`http://k/plugins/stripe/card/${instalment.paymentId}/${token}`);
    // The buyer's order page links it: the provider's pending render of the waiting instalment.
    const provider = h.loaded.providers.get('stripe');
    const { payment, event } = await h.core.payments.loadPayment(instalment.paymentId);
    const rendered = provider.paymentPendingRender({ event, settings: {}, clock: h.clock, baseUrl: 'http://k' } as never, { order, payment });
    expect(rendered).toMatchObject({ partial: 'stripe/pending', data: { refreshUrl: `http://k/plugins/stripe/card/${instalment.paymentId}/${token}`, payUrl: expect.stringContaining(`/plugins/stripe/pay/${instalment.paymentId}/`) } });
    // A forged token or another order's payment opens nothing.
    await expect(handleCardRefreshPage(req(instalment.paymentId, 'x'.repeat(32)), h.rt)).rejects.toMatchObject({ code: 'STRIPE_PAYMENT_LINK_INVALID' });
    const page = await handleCardRefreshPage(req(instalment.paymentId, token), h.rt);
    expect(page).toMatchObject({ status: 200, view: { partial: 'stripe/card-refresh' } });
    const setup = await handleCardSetup(req(instalment.paymentId, token), h.rt) as { body: { clientSecret: string } };
    const siId = setup.body.clientSecret.split('_secret')[0]!;
    // Asking again (a reload) hands out the same SetupIntent.
    expect(((await handleCardSetup(req(instalment.paymentId, token), h.rt)) as { body: { clientSecret: string } }).body.clientSecret).toBe(setup.body.clientSecret);
    await h.stripe.setupIntents.confirm(siId, { payment_method: 'pm_card_visa' });
    const back = await handleCardReturn(req(instalment.paymentId, token), h.rt);
    expect(back).toEqual({ redirect: expect.stringContaining(`/order/${order.code}/`) });
    const methods = await h.rt.payments.storedMethods.listForOrder(order.id);
    const plan = (await h.core.plans.view(order.id))!;
    const fresh = methods.find((m) => m.id === plan.plan.storedMethodId)!;
    expect(fresh).toMatchObject({ brand: 'visa', last4: '4242' });
    expect(plan.instalments[1]!.state).toBe('scheduled');
    await h.core.chargeRuns.run();
    expect((await h.core.plans.view(order.id))!.instalments[1]!.state).toBe('paid');
    expect((await h.core.orders.getSummary(order.id)).status).toBe('paid');
  });

  it('audits SetupIntents left unfinished for an hour: canceled at Stripe, marked abandoned, the order told', async () => {
    const { order, instalment } = await failingPlan('abandon@example.org');
    const token = refreshLinkToken(order, instalment.paymentId);
    const setup = await handleCardSetup(req(instalment.paymentId, token), h.rt) as { body: { clientSecret: string } };
    const siId = setup.body.clientSecret.split('_secret')[0]!;
    expect(await auditSetups(h.rt)).toEqual({ completed: 0, abandoned: 0 });
    await h.db.dataSource.query(`UPDATE stripe_setup_intent SET created_at = now() - interval '2 hours' WHERE setup_intent_id = $1`, [siId]);
    expect(await auditSetups(h.rt)).toEqual({ completed: 0, abandoned: 1 });
    expect((await h.stripe.setupIntents.retrieve(siId)).status).toBe('canceled');
    const topics: { topic: string }[] = await h.db.dataSource.query('SELECT topic FROM outbox_event WHERE order_id = $1 ORDER BY id', [order.id]);
    expect(topics.map((t) => t.topic)).toContain('stripe.setup_abandoned');
    // Once abandoned, never again.
    expect(await auditSetups(h.rt)).toEqual({ completed: 0, abandoned: 0 });
  });

  it('payment_method.detached removes the stored method (re-fetched, not trusted from the payload)', async () => {
    const { order, pm } = await failingPlan('detach@example.org');
    // A forged "detached" for a card still attached at Stripe only refreshes its details.
    expect(await applyMethodEvent(h.rt, h.stripe, { type: 'payment_method.detached', objectId: pm })).toBe('method updated');
    expect((await h.rt.payments.storedMethods.listForOrder(order.id)).map((m) => m.reference)).toContain(pm);
    await h.stripe.paymentMethods.detach(pm);
    expect(await applyMethodEvent(h.rt, h.stripe, { type: 'payment_method.detached', objectId: pm })).toBe('method detached');
    expect((await h.rt.payments.storedMethods.listForOrder(order.id)).map((m) => m.reference)).not.toContain(pm);
    expect(await applyMethodEvent(h.rt, h.stripe, { type: 'payment_method.detached', objectId: 'pm_unknown' })).toBe('not ours: pm_unknown');
  });
});
