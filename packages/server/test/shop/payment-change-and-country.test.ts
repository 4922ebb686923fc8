import { eventSettings, Order, OrderFee, OrderPayment } from '@kassa/core/host';
import { createShop, ScriptedProvider, type ShopFixture } from '@kassa/testing';
import { Buyer } from './buyer';
import { createShopTestApp, enableManual, type ShopTestApp } from './shop-test-app';

// Real providers (BasePaymentProvider subclasses); their framework settings (fees, countries) are
// set per event through the settings store, as an organizer would.
const fwd = new ScriptedProvider({ identifier: 'fwd', abortPending: true });
const rev = new ScriptedProvider({ identifier: 'rev', abortPending: true });
const dealer = new ScriptedProvider({ identifier: 'dealer', abortPending: true });
let t: ShopTestApp;

beforeAll(async () => {
  t = await createShopTestApp({ providers: [fwd, rev, dealer] });
});
afterAll(async () => {
  await t.close();
});

const base = (shop: ShopFixture) => `/${shop.organizer.slug}/${shop.event.slug}/`;
const orderPage = (shop: ShopFixture, order: Order) => `${base(shop)}order/${order.code}/${order.secret}/`;
/** The radio label of one method on the last payment page. */
const methodPanel = (html: string, id: string) => new RegExp(`data-provider="${id}"[\\s\\S]*?</fieldset>`).exec(html)?.[0] ?? '';

describe('switching the payment method on the order page', () => {
  it('shows each method\'s own fee and amount before the buyer commits, then charges the new method\'s fee', async () => {
    const shop = await createShop(t.db.dataSource, { price: 1000 });
    const settings = eventSettings(shop.event);
    await t.settings.set(settings, 'payment.fwd', { _enabled: true, _feeAbs: 50, _feePercent: '2', _feeReverseCalc: false });
    await t.settings.set(settings, 'payment.rev', { _enabled: true, _feeAbs: 30, _feePercent: '3', _feeReverseCalc: true });
    await t.settings.set(settings, 'payment.dealer', { _enabled: false });
    await enableManual(t, shop.event);
    fwd.paymentOutcomes.push({ kind: 'declined', message: 'Insufficient funds' });
    const { order } = await t.core.orders.placeOrder({ eventId: shop.event.id, email: 'ada@example.org', positions: [{ productId: shop.product.id }], provider: 'fwd' });
    expect(order.total).toBe(1070);
    const buyer = new Buyer(t.app);

    const pay = await buyer.get(`${orderPage(shop, order)}pay`);
    expect(pay.statusCode).toBe(200);
    // 10.00 owed without the open 0.70 fee: forward 0.70, reverse (0.30 + 0.30) / 0.97 = 0.62, manual none.
    expect(methodPanel(pay.body, 'fwd')).toContain('+ €0.70 fee');
    expect(methodPanel(pay.body, 'fwd')).toContain('you pay €10.70');
    expect(methodPanel(pay.body, 'rev')).toContain('+ €0.62 fee');
    expect(methodPanel(pay.body, 'rev')).toContain('you pay €10.62');
    expect(methodPanel(pay.body, 'manual')).not.toContain('fee</span>');
    expect(methodPanel(pay.body, 'manual')).toContain('you pay €10.00');
    // Showing the page commits nothing.
    expect((await t.db.dataSource.manager.findOneByOrFail(Order, { id: order.id })).total).toBe(1070);

    const done = await buyer.post(`${orderPage(shop, order)}pay`, { provider: 'rev', token: buyer.field('token')! });
    expect(done.statusCode).toBe(303);
    const after = await t.db.dataSource.manager.findOneByOrFail(Order, { id: order.id });
    expect(after).toMatchObject({ total: 1062, status: 'paid' });
    const payments = await t.db.dataSource.manager.find(OrderPayment, { where: { orderId: order.id }, order: { localId: 'ASC' } });
    expect(payments.map((p) => [p.provider, p.state, p.amount])).toEqual([['fwd', 'canceled', 1070], ['rev', 'confirmed', 1062]]);
    const fees = await t.db.dataSource.manager.find(OrderFee, { where: { orderId: order.id, canceled: false } });
    expect(fees.map((f) => [f.internalType, f.value])).toEqual([['rev', 62]]);
    const page = await buyer.get(orderPage(shop, order));
    expect(page.body).toContain('data-testid="order-total">€10.62<');
  });

  it('switching to a method without fee removes the fee from the total', async () => {
    const shop = await createShop(t.db.dataSource, { price: 1000 });
    await t.settings.set(eventSettings(shop.event), 'payment.fwd', { _enabled: true, _feeAbs: 50, _feePercent: '2', _feeReverseCalc: false });
    await enableManual(t, shop.event);
    fwd.paymentOutcomes.push({ kind: 'declined', message: 'Insufficient funds' });
    const { order } = await t.core.orders.placeOrder({ eventId: shop.event.id, email: 'ada@example.org', positions: [{ productId: shop.product.id }], provider: 'fwd' });
    const buyer = new Buyer(t.app);
    await buyer.get(`${orderPage(shop, order)}pay`);
    await buyer.post(`${orderPage(shop, order)}pay`, { provider: 'manual', token: buyer.field('token')! });
    const page = await buyer.get(orderPage(shop, order));
    expect(page.body).toContain('data-testid="order-total">€10.00<');
    expect(page.body).toContain('data-testid="order-open">€10.00<');
  });
});

describe('methods restricted by country', () => {
  async function toContact(buyer: Buyer, shop: ShopFixture) {
    await buyer.follow(await buyer.post(`${base(shop)}cart`, { [`qty_${shop.product.id}`]: 1 }));
    return buyer.get(`${base(shop)}checkout/contact`);
  }

  it('asks for the country only when an enabled method of the event is restricted by country', async () => {
    const plain = await createShop(t.db.dataSource);
    await t.settings.set(eventSettings(plain.event), 'payment.dealer', { _enabled: true });
    const buyer = new Buyer(t.app);
    const contact = await toContact(buyer, plain);
    expect(contact.statusCode).toBe(200);
    expect(contact.body).not.toContain('name="country"');
    // The same method disabled but restricted asks nothing either.
    const disabled = await createShop(t.db.dataSource);
    await t.settings.set(eventSettings(disabled.event), 'payment.dealer', { _enabled: false, _restrictedCountries: ['DE'] });
    expect((await toContact(new Buyer(t.app), disabled)).body).not.toContain('name="country"');
  });

  it('offers the restricted method to buyers in an allowed country only, and the order keeps the country', async () => {
    const shop = await createShop(t.db.dataSource);
    await t.settings.set(eventSettings(shop.event), 'payment.dealer', { _enabled: true, _restrictedCountries: ['DE', 'AT'] });
    await enableManual(t, shop.event);
    const buyer = new Buyer(t.app);
    const contact = await toContact(buyer, shop);
    expect(contact.body).toContain('name="country"');

    const missing = await buyer.post(`${base(shop)}checkout/contact`, { email: 'ada@example.org' });
    expect(missing.statusCode).toBe(400);
    expect(missing.body).toContain('country');
    expect((await buyer.post(`${base(shop)}checkout/contact`, { email: 'ada@example.org', country: 'XX' })).statusCode).toBe(400);

    const fromFrance = await buyer.follow(await buyer.post(`${base(shop)}checkout/contact`, { email: 'ada@example.org', country: 'FR' }));
    expect(fromFrance.body).toContain('data-provider="manual"');
    expect(fromFrance.body).not.toContain('data-provider="dealer"');
    const refused = await buyer.post(`${base(shop)}checkout/payment`, { provider: 'dealer' });
    expect(refused.statusCode).toBe(409);

    await buyer.get(`${base(shop)}checkout/contact`);
    const fromGermany = await buyer.follow(await buyer.post(`${base(shop)}checkout/contact`, { email: 'ada@example.org', country: 'de' }));
    expect(fromGermany.body).toContain('data-provider="dealer"');
    await buyer.follow(await buyer.post(`${base(shop)}checkout/payment`, { provider: 'dealer' }));
    const placed = await buyer.post(`${base(shop)}checkout/confirm`, { token: buyer.field('token')! });
    expect(placed.statusCode).toBe(303);
    const order = await t.db.dataSource.manager.findOneOrFail(Order, { where: { eventId: shop.event.id } });
    expect(order.country).toBe('DE');
    const [payment] = await t.db.dataSource.manager.find(OrderPayment, { where: { orderId: order.id } });
    expect(payment!.provider).toBe('dealer');
  });

  it('asks on the order page for the country of an order placed before a method was restricted', async () => {
    const shop = await createShop(t.db.dataSource);
    await enableManual(t, shop.event);
    await t.settings.set(eventSettings(shop.event), 'payment.dealer', { _enabled: false });
    const { order } = await t.core.orders.placeOrder({ eventId: shop.event.id, email: 'ada@example.org', positions: [{ productId: shop.product.id }], provider: 'manual' });
    expect(order.country).toBeNull();
    await t.settings.set(eventSettings(shop.event), 'payment.dealer', { _enabled: true, _restrictedCountries: ['DE'] });
    const buyer = new Buyer(t.app);
    const pay = await buyer.get(`${orderPage(shop, order)}pay`);
    expect(pay.body).toContain('data-testid="country-choice"');
    expect(pay.body).not.toContain('data-provider="dealer"');
    expect((await buyer.get(`${orderPage(shop, order)}pay?country=FR`)).body).not.toContain('data-provider="dealer"');
    const inGermany = await buyer.get(`${orderPage(shop, order)}pay?country=de`);
    expect(inGermany.body).toContain('data-provider="dealer"');
    expect(inGermany.body).toContain('name="country" value="DE"');
    const refused = await buyer.post(`${orderPage(shop, order)}pay`, { provider: 'dealer', country: 'FR', token: buyer.field('token')! });
    expect(refused.statusCode).toBe(409);
    await buyer.get(`${orderPage(shop, order)}pay?country=DE`);
    const done = await buyer.post(`${orderPage(shop, order)}pay`, { provider: 'dealer', country: 'DE', token: buyer.field('token')! });
    expect(done.statusCode).toBe(303);
    const after = await t.db.dataSource.manager.findOneByOrFail(Order, { id: order.id });
    expect(after.country).toBe('DE');
    const payments = await t.db.dataSource.manager.find(OrderPayment, { where: { orderId: order.id }, order: { localId: 'ASC' } });
    expect(payments.map((p) => [p.provider, p.state])).toEqual([['manual', 'canceled'], ['dealer', 'confirmed']]);
  });
});
