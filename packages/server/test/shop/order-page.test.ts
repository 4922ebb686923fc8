import { Event, Order, OrderPayment, systemActor, type Money, type PaymentCallInput, type ViewModel } from '@kassa/core/host';
import { createShop, ScriptedProvider, type ShopFixture } from '@kassa/testing';
import { Buyer } from './buyer';
import { createShopTestApp, enableManual, type ShopTestApp } from './shop-test-app';

/** A scripted gateway with its own Eta partials, shipped in its plugin's views folder. */
class CardProvider extends ScriptedProvider {
  override paymentFormRender(_ctx: unknown, total: Money): ViewModel {
    return { partial: '@test-providers/card-form', data: { total, note: '<b>3-D Secure</b> may follow' } };
  }

  override paymentPendingRender(_ctx: unknown, call: PaymentCallInput): ViewModel | null {
    const url = (call.payment.info as { redirectUrl?: string }).redirectUrl;
    return url ? { partial: 'test-providers/card-pending', data: { url } } : null;
  }
}

// Real providers whose gateway answers the test scripts (no mock of our own code): "card" may be
// abandoned while pending, "transfer" may not.
const card = new CardProvider({ identifier: 'card', abortPending: true });
const transfer = new ScriptedProvider({ identifier: 'transfer', abortPending: false });
let t: ShopTestApp;

beforeAll(async () => {
  t = await createShopTestApp({ providers: [card, transfer] });
});
afterAll(async () => {
  await t.close();
});

async function place(shop: ShopFixture, provider = 'manual'): Promise<{ order: Order; url: string }> {
  const { order } = await t.core.orders.placeOrder({ eventId: shop.event.id, email: 'ada@example.org', positions: [{ productId: shop.product.id }], provider });
  return { order, url: `/${shop.organizer.slug}/${shop.event.slug}/order/${order.code}/${order.secret}/` };
}

/** Checkout through the pages with `provider`, returning the confirm POST's response. */
async function checkout(buyer: Buyer, shop: ShopFixture, provider: string) {
  const base = `/${shop.organizer.slug}/${shop.event.slug}/`;
  await buyer.follow(await buyer.post(`${base}cart`, { [`qty_${shop.product.id}`]: 1 }));
  await buyer.follow(await buyer.post(`${base}checkout/contact`, { email: 'ada@example.org' }));
  await buyer.follow(await buyer.post(`${base}checkout/payment`, { provider }));
  return buyer.post(`${base}checkout/confirm`, { token: buyer.field('token')! });
}

describe('provider partials', () => {
  it('renders a plugin\'s checkout form partial from its own views folder, escaped, with the amount incl. fee', async () => {
    const shop = await createShop(t.db.dataSource, { price: 1990 });
    const buyer = new Buyer(t.app);
    const base = `/${shop.organizer.slug}/${shop.event.slug}/`;
    await buyer.follow(await buyer.post(`${base}cart`, { [`qty_${shop.product.id}`]: 1 }));
    const payment = await buyer.follow(await buyer.post(`${base}checkout/contact`, { email: 'ada@example.org' }));
    expect(payment.statusCode).toBe(200);
    expect(payment.body).toContain('<p class="card-form">Card for €19.90: &lt;b&gt;3-D Secure&lt;/b&gt; may follow</p>');
  });
});

describe('the secret link', () => {
  it('shows the order for the right secret and 404 for a wrong secret, an unknown code or another order\'s secret', async () => {
    const shop = await createShop(t.db.dataSource);
    await enableManual(t, shop.event);
    const { order, url } = await place(shop);
    const other = await place(shop);
    const buyer = new Buyer(t.app);

    expect((await buyer.get(url)).statusCode).toBe(200);
    const base = `/${shop.organizer.slug}/${shop.event.slug}/order/`;
    const wrong = await buyer.get(`${base}${order.code}/${order.secret.slice(0, -2)}xx/`);
    expect(wrong.statusCode).toBe(404);
    expect(wrong.body).not.toContain(order.code);
    expect((await buyer.get(`${base}ZZZZZ/${order.secret}/`)).statusCode).toBe(404);
    expect((await buyer.get(`${base}${order.code}/${other.order.secret}/`)).statusCode).toBe(404);
    // The pay page is behind the same secret.
    expect((await buyer.get(`${base}${order.code}/${other.order.secret}/pay`)).statusCode).toBe(404);
  });
});

describe('order states explained', () => {
  it('explains an expired order and still offers to pay when late payments are accepted', async () => {
    const shop = await createShop(t.db.dataSource);
    await enableManual(t, shop.event);
    const { order, url } = await place(shop);
    await t.core.orders.expireOrders(new Date(order.expires.getTime() + 1000));
    const page = await new Buyer(t.app).get(url);
    expect(page.body).toContain('Expired');
    expect(page.body).toContain('The payment deadline');
    expect(page.body).toContain('You can still pay');
    expect(page.body).toContain('data-testid="pay-change"');
  });

  it('explains a canceled order and refuses to start a payment for it', async () => {
    const shop = await createShop(t.db.dataSource);
    await enableManual(t, shop.event);
    const { order, url } = await place(shop);
    await t.core.orders.cancelOrder(order.id, { actor: systemActor });
    const buyer = new Buyer(t.app);
    const page = await buyer.get(url);
    expect(page.body).toContain('This order was canceled');
    expect(page.body).not.toContain('data-testid="pay-change"');
    const pay = await buyer.get(`${url}pay`);
    expect(pay.statusCode).toBe(409);
    expect(pay.body).toContain('the order is canceled');
  });
});

describe('orders that can no longer be paid (core decides, the shop refuses before any money moves)', () => {
  /** Opens the pay page while it can still be paid, then the order becomes unpayable; the POST with that form must start nothing. */
  async function refusedAfterwards(shop: ShopFixture, makeUnpayable: (order: Order) => Promise<void>, reason: RegExp) {
    const { order, url } = await place(shop);
    const buyer = new Buyer(t.app);
    await buyer.get(url);
    expect((await buyer.get(`${url}pay`)).statusCode).toBe(200);
    const token = buyer.field('token')!;
    await makeUnpayable(order);
    const calls = card.calls.length;
    const before = await t.db.dataSource.manager.count(OrderPayment, { where: { orderId: order.id } });

    const page = await buyer.get(url);
    expect(page.body).not.toContain('data-testid="pay-change"');
    expect(page.body).toMatch(reason);
    const pay = await buyer.get(`${url}pay`);
    expect(pay.statusCode).toBe(409);
    expect(pay.body).toMatch(reason);
    const post = await buyer.post(`${url}pay`, { provider: 'card', token });
    expect(post.statusCode).toBe(409);
    expect(card.calls.length).toBe(calls);
    expect(await t.db.dataSource.manager.count(OrderPayment, { where: { orderId: order.id } })).toBe(before);
    // The open manual payment was not abandoned either.
    expect((await t.db.dataSource.manager.findOneByOrFail(OrderPayment, { orderId: order.id, localId: 1 })).state).toBe('created');
  }

  it('after the event\'s last date of payments', async () => {
    const shop = await createShop(t.db.dataSource);
    await enableManual(t, shop.event);
    await refusedAfterwards(shop, async () => {
      await t.db.dataSource.getRepository(Event).update({ id: shop.event.id }, { paymentTermLast: new Date(t.clock.now().getTime() - 60_000) });
    }, /last date of payments has passed/);
    const { url } = await place(shop).catch(() => ({ url: null }));
    expect(url).toBeNull(); // and no new order that needs paying is placed
  });

  it('expired, with late payments off', async () => {
    const shop = await createShop(t.db.dataSource, { event: { paymentTermAcceptLate: false } });
    await enableManual(t, shop.event);
    await refusedAfterwards(shop, async (order) => {
      await t.core.orders.expireOrders(new Date(order.expires.getTime() + 1000));
    }, /late payments are not accepted/);
  });

  it('expired, and its tickets were sold meanwhile', async () => {
    const shop = await createShop(t.db.dataSource, { quotaSize: 1 });
    await enableManual(t, shop.event);
    await refusedAfterwards(shop, async (order) => {
      await t.core.orders.expireOrders(new Date(order.expires.getTime() + 1000));
      await place(shop); // someone else buys the last ticket
    }, /no longer available/);
  });
});

describe('paying again', () => {
  it('switches an open manual payment to another method once, even under a double submit', async () => {
    const shop = await createShop(t.db.dataSource, { price: 3000 });
    await enableManual(t, shop.event);
    const { order, url } = await place(shop);
    const buyer = new Buyer(t.app);
    await buyer.get(url);
    const payPage = await buyer.get(`${url}pay`);
    expect(payPage.statusCode).toBe(200);
    expect(payPage.body).toContain('value="card"');
    const token = buyer.field('token')!;
    const [a, b] = await Promise.all([buyer.post(`${url}pay`, { provider: 'card', token }), buyer.post(`${url}pay`, { provider: 'card', token })]);
    expect([a.statusCode, b.statusCode]).toEqual([303, 303]);
    expect(a.headers.location).toBe(url);

    const payments = await t.db.dataSource.manager.find(OrderPayment, { where: { orderId: order.id }, order: { localId: 'ASC' } });
    expect(payments.map((p) => [p.provider, p.state, p.amount])).toEqual([['manual', 'canceled', 3000], ['card', 'confirmed', 3000]]);
    expect((await t.db.dataSource.manager.findOneByOrFail(Order, { id: order.id })).status).toBe('paid');
    const page = await buyer.get(url);
    expect(page.body).toContain('Your order is paid');
  });

  it('follows a provider\'s requires_action redirect after placing the order', async () => {
    const shop = await createShop(t.db.dataSource);
    card.paymentOutcomes.push({ kind: 'requires_action', redirectUrl: 'https://acs.example/challenge/123' });
    const buyer = new Buyer(t.app);
    const res = await checkout(buyer, shop, 'card');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('https://acs.example/challenge/123');
    const order = await t.db.dataSource.manager.findOneByOrFail(Order, { eventId: shop.event.id });
    // Back on the order page, the provider's own pending partial points to the bank again.
    const page = await buyer.get(`/${shop.organizer.slug}/${shop.event.slug}/order/${order.code}/${order.secret}/`);
    expect(page.body).toContain('<p class="card-pending">Complete the authentication at <a href="https://acs.example/challenge/123">');
  });

  it('keeps a declined order, says so, and lets the buyer pay again', async () => {
    const shop = await createShop(t.db.dataSource);
    card.paymentOutcomes.push({ kind: 'declined', message: 'insufficient funds' });
    const buyer = new Buyer(t.app);
    const placed = await checkout(buyer, shop, 'card');
    const page = await buyer.follow(placed);
    expect(page.body).toContain('Your payment did not go through: insufficient funds');
    expect(page.body).toContain('Try again');
    const url = String(placed.headers.location);
    await buyer.get(`${url}pay`);
    const retry = await buyer.post(`${url}pay`, { provider: 'card', token: buyer.field('token')! });
    expect(retry.headers.location).toBe(url);
    const order = await t.db.dataSource.manager.findOneByOrFail(Order, { eventId: shop.event.id });
    expect(order.status).toBe('paid');
    const states = (await t.db.dataSource.manager.find(OrderPayment, { where: { orderId: order.id }, order: { localId: 'ASC' } })).map((p) => p.state);
    expect(states).toEqual(['failed', 'confirmed']);
  });

  it('refuses to replace a pending payment whose provider does not allow aborting it', async () => {
    const shop = await createShop(t.db.dataSource);
    transfer.paymentOutcomes.push({ kind: 'pending' });
    const buyer = new Buyer(t.app);
    const placed = await checkout(buyer, shop, 'transfer');
    const page = await buyer.follow(placed);
    expect(page.body).toContain('a payment is on its way and cannot be replaced');
    expect(page.body).not.toContain('data-testid="pay-change"');
    const url = String(placed.headers.location);
    const refused = await buyer.post(`${url}pay`, { provider: 'card', token: '7f0c2a9e-1b8e-4c55-9a51-0d1f0b9e2c11' }, { json: true });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('SHOP_PAYMENT_NOT_CHANGEABLE');
    const payments = await t.db.dataSource.manager.findBy(OrderPayment, { provider: 'transfer' });
    expect(payments.map((p) => p.state)).toEqual(['pending']);
  });
});
