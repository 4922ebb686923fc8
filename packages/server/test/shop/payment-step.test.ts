import { eventSettings, Order, OrderPayment, type PaymentCallInput, type PaymentOutcome, type PrepareResult, type ProviderContext } from '@kassa/core/host';
import { createShop, ScriptedProvider } from '@kassa/testing';
import { Buyer } from './buyer';
import { createShopTestApp, enableManual, type ShopTestApp } from './shop-test-app';

/**
 * A direct-debit provider with a form field of its own: checkoutPrepare validates the IBAN and
 * keeps it in the session; executePayment receives exactly that session.
 */
class DebitProvider extends ScriptedProvider {
  readonly sessions: Record<string, unknown>[] = [];

  override checkoutPrepare(_ctx: ProviderContext, input: Record<string, unknown>): PrepareResult {
    const iban = typeof input.iban === 'string' ? input.iban.replace(/\s+/g, '') : '';
    if (!/^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(iban)) return { ok: false, errors: { iban: 'is not a valid IBAN' } };
    return { ok: true, session: { iban } };
  }

  override async executePayment(ctx: ProviderContext, call: PaymentCallInput & { session: Record<string, unknown> }): Promise<PaymentOutcome> {
    this.sessions.push(call.session);
    return super.executePayment(ctx, call);
  }
}

const debit = new DebitProvider({ identifier: 'debit' });
let t: ShopTestApp;

beforeAll(async () => {
  t = await createShopTestApp({ providers: [debit] });
});
afterAll(async () => {
  await t.close();
});

async function toPaymentStep(price: number, quantity = 1) {
  const shop = await createShop(t.db.dataSource, { price });
  await enableManual(t, shop.event);
  // The organizer's framework settings for the method: a €0.50 fee, at most €100 per order.
  await t.settings.set(eventSettings(shop.event), 'payment.debit', { _enabled: true, _feeAbs: 50, _totalMax: 10_000 });
  const buyer = new Buyer(t.app);
  const base = `/${shop.organizer.slug}/${shop.event.slug}/`;
  await buyer.follow(await buyer.post(`${base}cart`, { [`qty_${shop.product.id}`]: quantity }));
  const page = await buyer.follow(await buyer.post(`${base}checkout/contact`, { email: 'ada@example.org' }));
  return { shop, buyer, base, page };
}

describe('the payment step', () => {
  it('refuses the provider\'s own invalid field by name and keeps nothing, then passes the valid input on to executePayment', async () => {
    const { shop, buyer, base, page } = await toPaymentStep(2000);
    expect(page.body).toContain('value="debit"');
    expect(page.body).toContain('€0.50 fee');

    const bad = await buyer.post(`${base}checkout/payment`, { provider: 'debit', iban: 'nope' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('iban: is not a valid IBAN');
    // Nothing was stored: the confirm step still sends the buyer back to choose.
    const back = await buyer.get(`${base}checkout/confirm`);
    expect(back.headers.location).toBe(`${base}checkout/payment`);

    const good = await buyer.post(`${base}checkout/payment`, { provider: 'debit', iban: 'DE89 3704 0044 0532 0130 00' });
    expect(good.headers.location).toBe(`${base}checkout/confirm`);
    const confirm = await buyer.get(`${base}checkout/confirm`);
    expect(confirm.body).toContain('€20.50');
    await buyer.post(`${base}checkout/confirm`, { token: buyer.field('token')! });

    const order = await t.db.dataSource.manager.findOneByOrFail(Order, { eventId: shop.event.id });
    expect(order).toMatchObject({ total: 2050, status: 'paid' });
    expect(debit.sessions.at(-1)).toEqual({ iban: 'DE89370400440532013000' });
    const payments = await t.db.dataSource.manager.findBy(OrderPayment, { orderId: order.id });
    expect(payments.map((p) => [p.provider, p.amount, p.state])).toEqual([['debit', 2050, 'confirmed']]);
  });

  it('offers only the methods core allows for the total, and refuses a method that is not offered', async () => {
    // 6 × €20 = €120 is above the debit provider's maximum of €100.
    const { buyer, base, page } = await toPaymentStep(2000, 6);
    expect(page.body).not.toContain('value="debit"');
    expect(page.body).toContain('value="manual"');
    const res = await buyer.post(`${base}checkout/payment`, { provider: 'debit', iban: 'DE89370400440532013000' }, { json: true });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: 'SHOP_PAYMENT_METHOD_UNAVAILABLE', params: { provider: 'debit' } });
  });
});
