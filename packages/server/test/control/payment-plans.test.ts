import { StoredMethodProvider } from '@kassa/testing';
import {
  createOrganizerFixture, createTestApp, getPage, login, postForm, postFromPage,
  type Browser, type OrganizerFixture, type TestApp,
} from '../infra/test-app';

/*
 * The control panel's payment plans through HTTP: the plan on the order page, the organizer's
 * actions (charge now, extend, mark paid, give up, cancel plan) scoped to their organizer, with
 * CSRF and one-time keys, and the event's plan settings form.
 */
let t: TestApp;
let a: OrganizerFixture;
let b: OrganizerFixture;
let browserA: Browser;
let browserB: Browser;
const saved = new StoredMethodProvider({ identifier: 'saved' });

beforeAll(async () => {
  t = await createTestApp({}, {}, [saved]);
  a = await createOrganizerFixture(t, { price: 3000 });
  b = await createOrganizerFixture(t);
  browserA = await login(t, a.email, a.password);
  browserB = await login(t, b.email, b.password);
  await t.core.plans.updateSettings(a.event.id, { enabled: true, instalments: 3, intervalDays: 30, graceDays: 2 });
});
afterAll(async () => t.close());

async function planOrder(reference: string) {
  const placed = await t.core.orders.placeOrder({ eventId: a.event.id, email: `${reference}@example.test`, positions: [{ productId: a.product.id }], provider: 'saved' });
  await t.core.plans.createPlan(placed.order.id, { provider: 'saved', actor: { type: 'system' } });
  const method = await t.core.storedMethods.save(placed.order.id, 'saved', { reference, brand: 'visa', last4: '4242' });
  await t.core.plans.useMethod(placed.order.id, method.id, { type: 'system' });
  await t.core.payments.executePayment(placed.payment!.id, {});
  return { order: placed.order, view: (await t.core.plans.view(placed.order.id))! };
}
const states = async (orderId: string) => (await t.core.plans.view(orderId))!.instalments.map((i) => i.state);

describe('the plan on the order page', () => {
  it('shows the schedule with each instalment\'s state and the next charge', async () => {
    const { order } = await planOrder('pm_page');
    const page = await getPage(t, browserA, `/control/orders/${order.id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Payment plan');
    expect(page.body).toContain('Next charge: instalment 2');
    expect(page.body.match(/\/plan\/instalments\/[0-9a-f-]{36}\/charge-now/g)).toHaveLength(2);
    expect(page.body).toContain(`/control/orders/${order.id}/plan/cancel`);
  });

  it('charge now charges the instalment once; the replayed form does nothing', async () => {
    const { order, view } = await planOrder('pm_now');
    const url = `/control/orders/${order.id}/plan/instalments/${view.instalments[1]!.id}/charge-now`;
    const page = await getPage(t, browserA, `/control/orders/${order.id}`);
    const key = /name="_actionKey" value="([^"]*)"/.exec(page.body)![1]!;
    const first = await postForm(t, browserA, url, { _actionKey: key });
    expect(first.statusCode).toBe(303);
    expect(await states(order.id)).toEqual(['paid', 'paid', 'scheduled']);
    const again = await postForm(t, browserA, url, { _actionKey: key });
    expect(again.statusCode).toBe(409);
    expect(saved.calls.filter((c) => c.paymentId === view.instalments[1]!.paymentId)).toHaveLength(1);
  });

  it('another organizer gets 404 for the order, its instalments and its event\'s plan settings; a forged CSRF token is refused', async () => {
    const { order, view } = await planOrder('pm_scope');
    const url = `/control/orders/${order.id}/plan/instalments/${view.instalments[1]!.id}/charge-now`;
    expect((await postForm(t, browserB, url, {})).statusCode).toBe(404);
    expect((await postForm(t, browserB, `/control/orders/${order.id}/plan/cancel`, {})).statusCode).toBe(404);
    expect((await getPage(t, browserB, `/control/events/${a.event.id}/plans`)).statusCode).toBe(404);
    expect((await postForm(t, browserB, `/control/events/${a.event.id}/plans`, { enabled: 'on' })).statusCode).toBe(404);
    // An instalment of another of A's orders through this order's URL: not found either.
    const other = await planOrder('pm_scope_other');
    expect((await postFromPage(t, browserA, `/control/orders/${order.id}/plan/instalments/${other.view.instalments[1]!.id}/mark-paid`)).statusCode).toBe(404);
    const forged = await postForm(t, browserA, `/control/orders/${order.id}/plan/cancel`, {}, { csrf: 'forged' });
    expect(forged.statusCode).toBe(403);
    expect(await states(order.id)).toEqual(['paid', 'scheduled', 'scheduled']);
  });

  it('an instalment waiting for the buyer: extend, mark paid, give up; cancel plan', async () => {
    const { order, view } = await planOrder('pm_decide');
    saved.script.set('pm_decide', [
      { kind: 'action_required', reason: 'authentication', message: 'authenticate' },
      { kind: 'action_required', reason: 'expired_card', message: 'expired' },
    ]);
    t.clock.advance({ days: 31 });
    await t.core.chargeRuns.run({ onlyIds: [view.instalments[1]!.id] });
    expect(await states(order.id)).toEqual(['paid', 'action_required', 'scheduled']);
    const page = await getPage(t, browserA, `/control/orders/${order.id}`);
    expect(page.body).toContain('(authentication)');
    const base = `/control/orders/${order.id}/plan/instalments/${view.instalments[1]!.id}`;
    // A malformed date is a 400 naming nothing else changed.
    expect((await postFromPage(t, browserA, `${base}/extend`, { until: 'tomorrow' })).statusCode).toBe(400);
    const until = new Date(t.clock.now().getTime() + 5 * 86_400_000).toISOString().slice(0, 10);
    expect((await postFromPage(t, browserA, `${base}/extend`, { until })).statusCode).toBe(303);
    expect(await states(order.id)).toEqual(['paid', 'scheduled', 'scheduled']);
    expect((await postFromPage(t, browserA, `${base}/mark-paid`)).statusCode).toBe(303);
    expect(await states(order.id)).toEqual(['paid', 'paid', 'scheduled']);
    t.clock.advance({ days: 30 });
    await t.core.chargeRuns.run({ onlyIds: [view.instalments[2]!.id] });
    expect(await states(order.id)).toEqual(['paid', 'paid', 'action_required']);
    expect((await postFromPage(t, browserA, `/control/orders/${order.id}/plan/instalments/${view.instalments[2]!.id}/give-up`)).statusCode).toBe(303);
    expect(await states(order.id)).toEqual(['paid', 'paid', 'failed']);
    // The plan is canceled now: cancel again is told, not a 500.
    const again = await postFromPage(t, browserA, `/control/orders/${order.id}/plan/cancel`);
    expect(again.statusCode).toBe(303);
    const after = await getPage(t, browserA, `/control/orders/${order.id}`);
    expect(after.body).toContain('PaymentPlan cannot go from canceled on cancel');
  });
});

describe('the event\'s plan settings', () => {
  it('are linked from the event\'s page', async () => {
    const page = await getPage(t, browserA, `/control/events/${a.event.id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(new RegExp(`href="/control/events/${a.event.id}/plans"[^>]*>Payment plans<`));
  });

  it('saves valid settings and answers 400 naming the field for bad ones', async () => {
    const page = await getPage(t, browserA, `/control/events/${a.event.id}/plans`);
    expect(page.statusCode).toBe(200);
    const ok = await postForm(t, browserA, `/control/events/${a.event.id}/plans`, { enabled: 'on', instalments: '4', intervalDays: '14', graceDays: '3', minTotal: '1000' });
    expect(ok.statusCode).toBe(303);
    expect(await t.core.plans.settings(a.event.id)).toMatchObject({ enabled: true, instalments: 4, intervalDays: 14, graceDays: 3, minTotal: 1000 });
    const bad = await postForm(t, browserA, `/control/events/${a.event.id}/plans`, { enabled: 'on', instalments: '1' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('instalments must be a whole number from 2 to 24');
    const dates = await postForm(t, browserA, `/control/events/${a.event.id}/plans`, { enabled: 'on', fixedDates: '2031-02-01, 2031-01-01' });
    expect(dates.statusCode).toBe(400);
    expect(dates.body).toContain('fixedDates must be in ascending order');
    expect(await t.core.plans.settings(a.event.id)).toMatchObject({ instalments: 4 });
  });
});
