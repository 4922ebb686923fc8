import { createShop, StoredMethodProvider, type ShopFixture } from '@kassa/testing';
import { eventSettings } from '@kassa/core/host';
import { Buyer } from './buyer';
import { createShopTestApp, enableManual, type ShopTestApp } from './shop-test-app';

/*
 * The checkout's payment plan choice through HTTP (docs/payment-plans.md): the confirm page shows
 * "pay in full" or "pay in N instalments" with the schedule where the event offers plans, the total
 * reaches the minimum and the method stores cards; choosing instalments creates the plan at
 * placement (the deposit is the first payment, the card is saved with it); a choice that is not on
 * offer is refused with a 400 naming the field, before any order exists.
 */
const saved = new StoredMethodProvider({ identifier: 'saved' });
let t: ShopTestApp;

beforeAll(async () => { t = await createShopTestApp({ providers: [saved] }); });
afterAll(async () => { await t.close(); });

async function toConfirm(shop: ShopFixture, provider: string, email: string): Promise<{ buyer: Buyer; base: string; page: string }> {
  const buyer = new Buyer(t.app);
  const base = `/${shop.organizer.slug}/${shop.event.slug}/`;
  await buyer.get(base);
  await buyer.follow(await buyer.post(`${base}cart`, { [`qty_${shop.product.id}`]: 1 }));
  await buyer.follow(await buyer.post(`${base}checkout/contact`, { email }));
  const chosen = await buyer.post(`${base}checkout/payment`, { provider });
  expect(chosen.headers.location).toBe(`${base}checkout/confirm`);
  const page = await buyer.follow(chosen);
  expect(page.statusCode).toBe(200);
  return { buyer, base, page: page.body };
}

const ordersOf = async (email: string) => t.db.dataSource.query(`SELECT id, code, secret FROM kassa_order WHERE email = $1`, [email]);

it('shows the schedule before placing; choosing instalments makes the deposit the first payment and asks the provider to save the card', async () => {
  const shop = await createShop(t.db.dataSource, { price: 10000 });
  await t.core.plans.updateSettings(shop.event.id, { enabled: true, instalments: 3, intervalDays: 30, minTotal: 5000 });
  const { buyer, base, page } = await toConfirm(shop, 'saved', 'plan@example.org');
  expect(page).toContain('data-testid="plan-choice"');
  expect(page).toContain('Pay in 3 instalments');
  // 100.00 in three: 33.34, 33.33, 33.33 (core's allocation), the first due today.
  const rows = [...page.matchAll(/<tr><td>(\d)<\/td><td>([^<]+)<\/td><td>([^<]+)<\/td><\/tr>/g)].map((m) => [m[1], m[2], m[3]]);
  expect(rows.map((r) => r[0])).toEqual(['1', '2', '3']);
  expect(rows[0]![1]).toBe('today');
  expect(rows.map((r) => r[2]!.replace(/[^\d.,]/g, ''))).toEqual(['33.34', '33.33', '33.33']);
  expect(page).toContain('Save this card for later payments');

  const placed = await buyer.post(`${base}checkout/confirm`, { token: buyer.field('token')!, plan: 'instalments' });
  expect(placed.statusCode).toBe(303);
  const [order] = await ordersOf('plan@example.org');
  const view = (await t.core.plans.view(order.id))!;
  expect(view.instalments.map((i) => i.amount)).toEqual([3334, 3333, 3333]);
  // The deposit was executed on-session, with its own amount, and the provider was asked to save the card.
  const deposit = saved.executed.find((e) => e.paymentId === view.instalments[0]!.paymentId)!;
  expect(deposit).toMatchObject({ amount: 3334, session: { saveMethod: true } });
  expect(view.instalments.map((i) => i.state)).toEqual(['paid', 'scheduled', 'scheduled']);

  // The buyer's order page: the schedule, and no "pay again" that would abandon the instalments.
  const orderPage = await buyer.follow(placed);
  expect(orderPage.body).toContain('Your instalments');
  expect([...orderPage.body.matchAll(/data-state="(\w+)"/g)].map((m) => m[1])).toEqual(['paid', 'scheduled', 'scheduled']);
  expect(orderPage.body).not.toContain('data-testid="pay-change"');
  expect(orderPage.body).toContain('paid in instalments');
  expect((await buyer.get(`${placed.headers.location as string}pay`)).statusCode).toBe(409);
});

it('"save this card" without a plan: paid in full, the provider asked to save the card', async () => {
  const shop = await createShop(t.db.dataSource, { price: 2000 });
  const { buyer, base, page } = await toConfirm(shop, 'saved', 'save@example.org');
  // No plans for this event: only the card choice.
  expect(page).not.toContain('data-testid="plan-choice"');
  const placed = await buyer.post(`${base}checkout/confirm`, { token: buyer.field('token')!, saveMethod: '1' });
  expect(placed.statusCode).toBe(303);
  const [order] = await ordersOf('save@example.org');
  expect(await t.core.plans.view(order.id)).toBeNull();
  const [payment] = await t.db.dataSource.query(`SELECT id FROM order_payment WHERE order_id = $1`, [order.id]);
  expect(saved.executed.find((e) => e.paymentId === payment.id)).toMatchObject({ amount: 2000, session: { saveMethod: true } });
});

it('refuses a plan that is not on offer (total below the minimum, or a method that cannot save cards) with a 400 naming the field, before any order', async () => {
  const shop = await createShop(t.db.dataSource, { price: 2000 });
  await t.core.plans.updateSettings(shop.event.id, { enabled: true, instalments: 2, intervalDays: 30, minTotal: 5000 });
  const low = await toConfirm(shop, 'saved', 'low@example.org');
  expect(low.page).not.toContain('data-testid="plan-choice"');
  const refused = await low.buyer.post(`${low.base}checkout/confirm`, { token: low.buyer.field('token')!, plan: 'instalments' });
  expect(refused.statusCode).toBe(400);
  expect(refused.body).toContain('plan');
  expect(refused.body).toContain('plans start at a total of 5000');
  expect(await ordersOf('low@example.org')).toHaveLength(0);

  await enableManual(t, shop.event);
  await t.core.plans.updateSettings(shop.event.id, { enabled: true, instalments: 2, intervalDays: 30 });
  const manual = await toConfirm(shop, 'manual', 'manual@example.org');
  expect(manual.page).not.toContain('Save this card');
  const noCards = await manual.buyer.post(`${manual.base}checkout/confirm`, { token: manual.buyer.field('token')!, saveMethod: '1' });
  expect(noCards.statusCode).toBe(400);
  expect(noCards.body).toContain('saveMethod');
  expect(await ordersOf('manual@example.org')).toHaveLength(0);

  // A value outside the form's choices is refused by the schema, naming the field.
  const odd = await manual.buyer.post(`${manual.base}checkout/confirm`, { token: manual.buyer.field('token')!, plan: 'sometime' });
  expect(odd.statusCode).toBe(400);
  expect(odd.body).toContain('plan');
});

it('a plan without a deposit: nothing is charged at checkout (the attempt is 0, the card saved), every instalment on its date', async () => {
  const shop = await createShop(t.db.dataSource, { price: 9000 });
  await t.core.plans.updateSettings(shop.event.id, { enabled: true, instalments: 3, intervalDays: 30, noDeposit: true });
  const { buyer, base, page } = await toConfirm(shop, 'saved', 'nodeposit@example.org');
  expect(page).toContain('nothing is charged now');
  const rows = [...page.matchAll(/<tr><td>(\d)<\/td><td>([^<]+)<\/td><td>([^<]+)<\/td><\/tr>/g)].map((m) => m[2]);
  expect(rows).toHaveLength(3);
  expect(rows).not.toContain('today');
  const placed = await buyer.post(`${base}checkout/confirm`, { token: buyer.field('token')!, plan: 'instalments' });
  expect(placed.statusCode).toBe(303);
  const [order] = await ordersOf('nodeposit@example.org');
  const view = (await t.core.plans.view(order.id))!;
  expect(view.instalments.map((i) => [i.amount, i.state])).toEqual([[3000, 'scheduled'], [3000, 'scheduled'], [3000, 'scheduled']]);
  expect(view.instalments[0]!.dueAt.getTime()).toBe(t.clock.now().getTime() + 30 * 86_400_000);
  // The checkout's attempt moved no money and asked the provider to save the card.
  const attempts = await t.db.dataSource.query(`SELECT id, amount::int AS amount FROM order_payment WHERE order_id = $1 AND id <> ALL($2::uuid[])`, [order.id, view.instalments.map((i) => i.paymentId)]);
  expect(attempts).toEqual([{ id: expect.any(String), amount: 0 }]);
  expect(saved.executed.find((e) => e.paymentId === attempts[0].id)).toMatchObject({ amount: 0, session: { saveMethod: true } });
  // The order is kept open until the last date plus the grace period, not its usual payment term.
  const [o] = await t.db.dataSource.query(`SELECT status, expires FROM kassa_order WHERE id = $1`, [order.id]);
  expect(o.status).toBe('pending');
  expect(new Date(o.expires).getTime()).toBeGreaterThan(view.instalments[2]!.dueAt.getTime());
  // Nothing is charged before the first date.
  expect((await t.core.chargeRuns.run({ onlyIds: [view.instalments[0]!.id] })).claimed).toBe(0);
});

it('with a payment fee, the confirm page\'s schedule is what the plan then charges: each instalment its share plus the fee on it', async () => {
  const shop = await createShop(t.db.dataSource, { price: 10000 });
  // 0.50 + 2 %, forward: on the whole 100.00 that is 2.50; per instalment 0.50 + 2 % of its share.
  await t.settings.set(eventSettings(shop.event), 'payment.saved', { _enabled: true, _feeAbs: 50, _feePercent: '2', _feeReverseCalc: false });
  await t.core.plans.updateSettings(shop.event.id, { enabled: true, instalments: 3, intervalDays: 30 });
  const { buyer, base, page } = await toConfirm(shop, 'saved', 'planfee@example.org');
  const shown = [...page.matchAll(/<tr><td>(\d)<\/td><td>([^<]+)<\/td><td>([^<]+)<\/td><\/tr>/g)].map((m) => m[3]!.replace(/[^\d.,]/g, ''));
  // 33.34 + 0.50 + 0.67, 33.33 + 0.50 + 0.67 (twice).
  expect(shown).toEqual(['34.51', '34.50', '34.50']);
  // Paying in full costs 102.50 (one fee on the whole); the instalments add up to 103.51, shown too.
  expect(page).toMatch(/Pay in 3 instalments: <strong>[^<]*103\.51<\/strong>/);

  const placed = await buyer.post(`${base}checkout/confirm`, { token: buyer.field('token')!, plan: 'instalments' });
  expect(placed.statusCode).toBe(303);
  const [order] = await ordersOf('planfee@example.org');
  const view = (await t.core.plans.view(order.id))!;
  expect(view.instalments.map((i) => (i.amount / 100).toFixed(2))).toEqual(shown);
  const deposit = saved.executed.find((e) => e.paymentId === view.instalments[0]!.paymentId)!;
  expect(deposit.amount).toBe(3451);
  const [o] = await t.db.dataSource.query(`SELECT total::int AS total FROM kassa_order WHERE id = $1`, [order.id]);
  expect(o.total).toBe(10000 + 3 * 117);
});
