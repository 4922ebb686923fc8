import { ChargeRunService, createKassaCore, type InstalmentRow } from '@kassa/core/host';
import { providerContextFactory, providerLookup, StoredMethodProvider } from '@kassa/testing';
import { errorCode } from './core-harness';
import { createPlanHarness, type PlanHarness } from './plan-harness';

/*
 * Payment plans against the real database: the schedule's allocation, every path of an
 * instalment through the charge run, and the organizer's actions.
 */
describe('payment plans', () => {
  let h: PlanHarness;
  beforeAll(async () => { h = await createPlanHarness(); });
  afterAll(async () => { await h.destroy(); });

  const plan = async (orderId: string) => (await h.core.plans.view(orderId))!;
  const states = async (orderId: string) => (await plan(orderId)).instalments.map((i: InstalmentRow) => i.state);
  const paymentState = async (id: string) => (await h.core.payments.loadPayment(id)).payment.state;
  const orderStatus = async (id: string) => (await h.core.orders.getSummary(id)).status;
  const topics = async (orderId: string, topic: string) =>
    (await h.ds.query('SELECT payload FROM outbox_event WHERE order_id = $1 AND topic = $2 ORDER BY id', [orderId, topic]) as { payload: Record<string, unknown> }[]).map((r) => r.payload);
  const runAt = async (days: number) => { h.clock.advance({ days }); return h.core.chargeRuns.run({ concurrency: 1 }); };

  it('splits the total into instalments that add up to it exactly, each an order payment of its own', async () => {
    const shop = await h.shop({ instalments: 3 }, 1000);
    const { order, paymentId } = await h.planOrder(shop, { payDeposit: false });
    const p = await plan(order.id);
    expect(p.instalments.map((i) => i.amount)).toEqual([334, 333, 333]);
    expect(p.instalments[0]!.paymentId).toBe(paymentId);
    const amounts: { amount: string }[] = await h.ds.query('SELECT amount::text FROM order_payment WHERE order_id = $1 ORDER BY local_id', [order.id]);
    expect(amounts.map((a) => Number(a.amount))).toEqual([334, 333, 333]);
    expect(p.instalments.map((i) => i.dueAt.getTime() - p.instalments[0]!.dueAt.getTime())).toEqual([0, 30, 60].map((d) => d * 86_400_000));
    // Nothing is charged off-session before the deposit is paid; then the order stays open past
    // the last instalment plus the grace period.
    const expires = async () => new Date((await h.ds.query('SELECT expires FROM kassa_order WHERE id = $1', [order.id]))[0].expires).getTime();
    const before = await expires();
    expect(before).toBeLessThan(p.instalments[1]!.dueAt.getTime());
    h.clock.advance({ days: 61 });
    await h.core.chargeRuns.run();
    expect(h.saved.calls.filter((c) => p.instalments.some((i) => i.paymentId === c.paymentId))).toEqual([]);
    h.clock.advance({ days: -61 });
    await h.core.payments.executePayment(paymentId, {});
    expect(await states(order.id)).toEqual(['paid', 'scheduled', 'scheduled']);
    expect(await expires()).toBeGreaterThan(p.instalments[2]!.dueAt.getTime() + 7 * 86_400_000);
  });

  it('uses fixed dates when the organizer sets them, and refuses plans the event does not offer', async () => {
    const fixed = await h.shop({ fixedDates: ['2030-04-01', '2030-05-01', '2030-06-01'] }, 1001);
    const { order } = await h.planOrder(fixed, { payDeposit: false });
    const p = await plan(order.id);
    expect(p.instalments.map((i) => i.amount)).toEqual([251, 250, 250, 250]);
    expect(p.instalments.slice(1).map((i) => i.dueAt.toISOString().slice(0, 10))).toEqual(['2030-04-01', '2030-05-01', '2030-06-01']);

    const off = await h.shop({ enabled: false });
    const placed = await h.core.orders.placeOrder({ eventId: off.event.id, email: 'b@example.org', positions: [{ productId: off.product.id }], provider: 'saved' });
    expect(await errorCode(h.core.plans.createPlan(placed.order.id, { provider: 'saved', actor: { type: 'system' } }))).toBe('PLAN_NOT_OFFERED');
    const big = await h.shop({ minTotal: 5000 });
    const small = await h.core.orders.placeOrder({ eventId: big.event.id, email: 'b@example.org', positions: [{ productId: big.product.id }], provider: 'saved' });
    expect(await errorCode(h.core.plans.createPlan(small.order.id, { provider: 'saved', actor: { type: 'system' } }))).toBe('PLAN_NOT_OFFERED');
    // A second plan for the same order is refused.
    expect(await errorCode(h.core.plans.createPlan(order.id, { provider: 'saved', actor: { type: 'system' } }))).toBe('PLAN_NOT_OFFERED');
  });

  it('names the field of bad plan settings', async () => {
    const shop = await h.shop();
    await expect(h.core.plans.updateSettings(shop.event.id, { instalments: 1 })).rejects.toMatchObject({ code: 'PLAN_SETTINGS_INVALID', params: { field: 'instalments' } });
    await expect(h.core.plans.updateSettings(shop.event.id, { fixedDates: ['2030-05-01', '2030-04-01'] })).rejects.toMatchObject({ params: { field: 'fixedDates' } });
    await expect(h.core.plans.updateSettings(shop.event.id, { graceDays: 'soon' })).rejects.toMatchObject({ params: { field: 'graceDays' } });
  });

  it('charges each instalment on its date; the order is paid only when the last one is confirmed', async () => {
    const shop = await h.shop();
    const { order } = await h.planOrder(shop, { reference: 'pm_happy' });
    expect(await states(order.id)).toEqual(['paid', 'scheduled', 'scheduled']);
    expect(await orderStatus(order.id)).toBe('pending');
    // Nothing is due yet.
    expect((await h.core.chargeRuns.run()).claimed).toBe(0);
    await runAt(30);
    expect(await states(order.id)).toEqual(['paid', 'paid', 'scheduled']);
    expect(await orderStatus(order.id)).toBe('pending');
    const p = await plan(order.id);
    expect(p.nextCharge?.seq).toBe(3);
    // The key comes from the instalment's payment row and its attempt; the stored customer travels with the method.
    const call = h.saved.calls.find((c) => c.paymentId === p.instalments[1]!.paymentId)!;
    expect(call).toEqual({ paymentId: p.instalments[1]!.paymentId, key: ChargeRunService.idempotencyKey(p.instalments[1]!.paymentId, 1), reference: 'pm_happy', customer: 'cus_1' });
    await runAt(30);
    expect(await states(order.id)).toEqual(['paid', 'paid', 'paid']);
    expect(await orderStatus(order.id)).toBe('paid');
    expect((await plan(order.id)).plan.state).toBe('completed');
    expect(await topics(order.id, 'plan.completed')).toHaveLength(1);
  });

  it('retries soft declines on the retry schedule with a new key each time, then asks the buyer', async () => {
    const shop = await h.shop({ instalments: 2 });
    const { order } = await h.planOrder(shop, { reference: 'pm_soft' });
    const decline = { kind: 'soft_decline', message: 'Your card has insufficient funds.', code: 'insufficient_funds' } as const;
    h.saved.script.set('pm_soft', [decline, decline, decline, decline]);
    await runAt(30);
    let p = await plan(order.id);
    expect(p.instalments[1]).toMatchObject({ state: 'retrying', attempt: 2, lastError: decline.message });
    expect(p.instalments[1]!.nextAttemptAt.getTime()).toBe(h.clock.now().getTime() + 86_400_000);
    expect((await h.core.chargeRuns.run()).claimed).toBe(0);
    await runAt(1);
    await runAt(3);
    await runAt(5);
    p = await plan(order.id);
    expect(p.instalments[1]).toMatchObject({ state: 'action_required', actionReason: 'retries_exhausted' });
    expect(p.plan.state).toBe('attention');
    const keys = h.saved.calls.filter((c) => c.paymentId === p.instalments[1]!.paymentId).map((c) => c.key);
    expect(new Set(keys).size).toBe(4);
    // The payment stays open for the buyer; the action-required email goes out at once (off-session).
    expect(await paymentState(p.instalments[1]!.paymentId)).toBe('created');
    expect(await topics(order.id, 'payment.action_required')).toEqual([expect.objectContaining({ paymentId: p.instalments[1]!.paymentId, offSession: true, reason: 'retries_exhausted' })]);
  });

  it('authentication required: action required, the organizer charges it again after the buyer fixed it', async () => {
    const shop = await h.shop({ instalments: 2 });
    const { order } = await h.planOrder(shop, { reference: 'pm_3ds' });
    h.saved.script.set('pm_3ds', [{ kind: 'action_required', reason: 'authentication', message: 'authentication_required', code: 'authentication_required' }]);
    expect(await runAt(30)).toMatchObject({ actionRequired: 1 });
    let p = await plan(order.id);
    expect(p.instalments[1]).toMatchObject({ state: 'action_required', actionReason: 'authentication', attempt: 2 });
    expect(await topics(order.id, 'plan.action_required')).toHaveLength(1);
    const [{ organizer_id: organizerId }] = await h.ds.query('SELECT organizer_id FROM kassa_order WHERE id = $1', [order.id]);
    expect(await h.core.plans.countAwaitingBuyer(organizerId)).toBe(1);
    expect(await h.core.plans.countAwaitingBuyer('00000000-0000-4000-8000-000000000000')).toBe(0);
    await h.core.plans.makeDueNow(order.id, p.instalments[1]!.id, { type: 'user', id: 'admin' });
    expect(await h.core.chargeRuns.run({ onlyIds: [p.instalments[1]!.id] })).toMatchObject({ succeeded: 1 });
    p = await plan(order.id);
    expect(p.plan.state).toBe('completed');
    expect(await orderStatus(order.id)).toBe('paid');
    expect(await h.core.plans.countAwaitingBuyer(organizerId)).toBe(0);
  });

  it('processing: the payment is pending until the provider confirms it, then the instalment is paid', async () => {
    const shop = await h.shop({ instalments: 2 });
    const { order } = await h.planOrder(shop, { reference: 'pm_sepa' });
    h.saved.script.set('pm_sepa', [{ kind: 'processing' }]);
    await runAt(30);
    let p = await plan(order.id);
    expect(p.instalments[1]!.state).toBe('processing');
    expect(await paymentState(p.instalments[1]!.paymentId)).toBe('pending');
    await h.core.payments.confirmPayment(p.instalments[1]!.paymentId, { actor: { type: 'provider', id: 'saved' } });
    p = await plan(order.id);
    expect(p.instalments[1]!.state).toBe('paid');
    expect(p.plan.state).toBe('completed');
  });

  it('an unknown outcome (network error) is charged again with the same key after the short retry, once', async () => {
    const shop = await h.shop({ instalments: 2 });
    const { order } = await h.planOrder(shop, { reference: 'pm_flaky' });
    h.saved.script.set('pm_flaky', [new Error('socket hang up')]);
    expect(await runAt(30)).toMatchObject({ unknown: 1 });
    const p = await plan(order.id);
    expect(p.instalments[1]).toMatchObject({ state: 'scheduled', lastError: 'socket hang up' });
    expect((await h.core.chargeRuns.run()).claimed).toBe(0);
    h.clock.advance({ minutes: 2 });
    expect(await h.core.chargeRuns.run()).toMatchObject({ succeeded: 1 });
    const keys = h.saved.calls.filter((c) => c.paymentId === p.instalments[1]!.paymentId).map((c) => c.key);
    expect(keys).toEqual([keys[0], keys[0]]);
  });

  it('hard declines and expired cards wait for the buyer; past the grace period the organizer extends, marks paid or gives up', async () => {
    const shop = await h.shop({ instalments: 3, graceDays: 2 });
    const { order } = await h.planOrder(shop, { reference: 'pm_hard' });
    h.saved.script.set('pm_hard', [{ kind: 'action_required', reason: 'hard_decline', message: 'stolen card', code: 'card_declined' }]);
    await runAt(30);
    let p = await plan(order.id);
    expect(p.instalments[1]).toMatchObject({ state: 'action_required', actionReason: 'hard_decline' });
    expect(p.pastGrace).toEqual([]);
    h.clock.advance({ days: 3 });
    p = await plan(order.id);
    expect(p.pastGrace).toEqual([2]);
    expect((await h.core.plans.pastGrace(order.organizerId)).map((x) => x.orderId)).toEqual([order.id]);
    const admin = { type: 'user', id: 'admin' } as const;
    await expect(h.core.plans.extend(order.id, p.instalments[1]!.id, new Date(h.clock.now().getTime() - 1), admin)).rejects.toMatchObject({ params: { field: 'until' } });
    await h.core.plans.extend(order.id, p.instalments[1]!.id, new Date(h.clock.now().getTime() + 86_400_000), admin);
    p = await plan(order.id);
    expect(p.instalments[1]!.state).toBe('scheduled');
    expect(p.plan.state).toBe('active');
    // Marked paid: money that came another way.
    await h.core.plans.markPaid(order.id, p.instalments[1]!.id, admin);
    expect(await states(order.id)).toEqual(['paid', 'paid', 'scheduled']);
    h.saved.script.set('pm_hard', [{ kind: 'action_required', reason: 'expired_card', message: 'expired', code: 'expired_card' }]);
    await runAt(30);
    p = await plan(order.id);
    expect(p.instalments[2]).toMatchObject({ state: 'action_required', actionReason: 'expired_card' });
    await h.core.plans.giveUp(order.id, p.instalments[2]!.id, admin);
    p = await plan(order.id);
    expect(p.instalments[2]!.state).toBe('failed');
    expect(p.plan.state).toBe('canceled');
    expect(await paymentState(p.instalments[2]!.paymentId)).toBe('failed');
    expect(await orderStatus(order.id)).toBe('pending');
  });

  it('cancel plan cancels the open instalments and their payments; the organizer actions are scoped to the order', async () => {
    const shop = await h.shop();
    const { order } = await h.planOrder(shop, { reference: 'pm_cancel' });
    const other = await h.planOrder(shop, { reference: 'pm_other' });
    const p = await plan(order.id);
    // Another order's instalment id is not found through this order.
    expect(await errorCode(h.core.plans.makeDueNow(other.order.id, p.instalments[1]!.id, { type: 'user' }))).toBe('NOT_FOUND');
    expect(await errorCode(h.core.plans.markPaid(other.order.id, p.instalments[1]!.id, { type: 'user' }))).toBe('NOT_FOUND');
    await h.core.plans.cancelPlan(order.id, { type: 'user', id: 'admin' });
    expect(await states(order.id)).toEqual(['paid', 'canceled', 'canceled']);
    expect(await paymentState(p.instalments[1]!.paymentId)).toBe('canceled');
    expect((await plan(order.id)).plan.state).toBe('canceled');
    h.clock.advance({ days: 90 });
    const run = await h.core.chargeRuns.run();
    expect(h.saved.calls.some((c) => c.paymentId === p.instalments[1]!.paymentId)).toBe(false);
    expect(run.claimed).toBeGreaterThanOrEqual(0);
  });

  it('a removed method is never charged: the instalment waits for the buyer instead', async () => {
    const shop = await h.shop({ instalments: 2 });
    const { order, methodId } = await h.planOrder(shop, { reference: 'pm_removed', email: 'remover@example.org' });
    await h.core.storedMethods.remove(order.id, methodId, { type: 'buyer' });
    expect(h.saved.removed).toContain('pm_removed');
    expect(await h.core.storedMethods.listForOrder(order.id)).toEqual([]);
    await runAt(30);
    const p = await plan(order.id);
    expect(p.instalments[1]).toMatchObject({ state: 'action_required', actionReason: 'no_method' });
    expect(h.saved.calls.some((c) => c.reference === 'pm_removed')).toBe(false);
  });

  it('two charge runs at once (two instances on one database) charge every instalment once', async () => {
    const shop = await h.shop({ instalments: 2 }, 700);
    const orders = [];
    for (let i = 0; i < 30; i++) orders.push(await h.planOrder(shop, { reference: `pm_two_${i}` }));
    h.clock.advance({ days: 30 });
    const second = new StoredMethodProvider({ identifier: 'saved', ledger: h.ledger });
    const lookup = providerLookup(second);
    const otherCore = createKassaCore({ dataSource: h.ds, providers: lookup, providerContext: providerContextFactory(lookup, h.clock), clock: h.clock });
    const [a, b] = await Promise.all([h.core.chargeRuns.run({ concurrency: 3 }), otherCore.chargeRuns.run({ concurrency: 3 })]);
    await otherCore.close();
    expect(a.claimed + b.claimed).toBe(30);
    expect(a.succeeded + b.succeeded).toBe(30);
    const paymentIds = new Set((await Promise.all(orders.map(async (o) => (await plan(o.order.id)).instalments[1]!.paymentId))));
    const calls = [...h.saved.calls, ...second.calls].filter((c) => paymentIds.has(c.paymentId));
    expect(calls).toHaveLength(30);
    for (const o of orders) expect(await orderStatus(o.order.id)).toBe('paid');
    for (const [id, n] of h.ledger.successesPerPayment()) if (paymentIds.has(id)) expect(n).toBe(1);
  });

  it('many due instalments, several of one plan, charged in parallel and written in batches: each once, each plan completed once', async () => {
    const shop = await h.shop({ instalments: 4, intervalDays: 1 }, 1200);
    const orders = [];
    for (let i = 0; i < 12; i++) orders.push(await h.planOrder(shop, { reference: `pm_batch_${i}` }));
    h.clock.advance({ days: 4 });
    // Chunks of 16 claims, up to 16 charges in flight: the three instalments of a plan are charged side by side.
    const run = await h.core.chargeRuns.run({ concurrency: 16, limit: 1000 });
    expect(run).toMatchObject({ claimed: 36, succeeded: 36, unknown: 0 });
    for (const o of orders) {
      expect(await states(o.order.id)).toEqual(['paid', 'paid', 'paid', 'paid']);
      expect(await orderStatus(o.order.id)).toBe('paid');
      expect((await plan(o.order.id)).plan.state).toBe('completed');
      expect(await topics(o.order.id, 'plan.completed')).toHaveLength(1);
      expect(await topics(o.order.id, 'order.paid')).toHaveLength(1);
      // Each instalment's move wrote its audit entry and its event once (the deposit's included). Instalments of one plan
      // charged side by side may land in different writers' batches, so their events' order is not the schedule's.
      expect((await topics(o.order.id, 'plan.instalment_paid')).map((p) => p.seq as number).sort((a, b) => a - b)).toEqual([1, 2, 3, 4]);
      const [logged]: { n: number }[] = await h.ds.query(
        `SELECT count(*)::int AS n FROM log_entry WHERE order_id = $1 AND object_type = 'instalment' AND action = 'kassa.plan.instalment.paid'`, [o.order.id]);
      expect(logged!.n).toBe(4);
      for (const i of (await plan(o.order.id)).instalments.slice(1)) expect(h.ledger.successesPerPayment().get(i.paymentId)).toBe(1);
    }
    const [claims]: { n: number }[] = await h.ds.query(
      `SELECT count(*)::int AS n FROM plan_instalment i JOIN payment_plan p ON p.id = i.plan_id WHERE p.order_id = ANY($1::uuid[]) AND (i.claimed_by IS NOT NULL OR i.lease_until IS NOT NULL)`,
      [orders.map((o) => o.order.id)]);
    expect(claims!.n).toBe(0);
  });

  it('stored methods belong to the organizer\'s customer of the buyer\'s e-mail and are shredded with the order', async () => {
    const shop = await h.shop();
    const { order, methodId } = await h.planOrder(shop, { reference: 'pm_shred', email: 'Shred@Example.org' });
    const again = await h.planOrder(shop, { reference: 'pm_shred_2', email: 'shred@example.org' });
    const c1 = await h.core.storedMethods.customerOfOrder(order.id);
    const c2 = await h.core.storedMethods.customerOfOrder(again.order.id);
    expect(c1.id).toBe(c2.id);
    expect(c1.email).toBe('shred@example.org');
    expect(c1.providerRefs).toEqual({ saved: 'cus_1' });
    // The same buyer's other order sees both methods; another shop's order sees none of them.
    expect((await h.core.storedMethods.listForOrder(again.order.id)).map((m) => m.reference).sort()).toEqual(['pm_shred', 'pm_shred_2']);
    const foreign = await h.planOrder(await h.shop(), { reference: 'pm_foreign', email: 'shred@example.org' });
    expect((await h.core.storedMethods.listForOrder(foreign.order.id)).map((m) => m.reference)).toEqual(['pm_foreign']);
    expect(await errorCode(h.core.storedMethods.remove(foreign.order.id, methodId, { type: 'buyer' }))).toBe('NOT_FOUND');
    await h.core.orders.shredOrder(order.id, { type: 'user', id: 'admin' });
    const m = await h.core.storedMethods.get(methodId);
    expect(m).toMatchObject({ brand: null, last4: null, expMonth: null, expYear: null });
    expect(m!.removedAt).not.toBeNull();
    expect(await h.core.storedMethods.ref(methodId)).toBeNull();
  });
});

