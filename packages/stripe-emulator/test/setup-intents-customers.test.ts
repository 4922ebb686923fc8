import type Stripe from 'stripe';
import type { RunningEmulator } from '../src';
import { freshKey, raw, stripeFor, withEmulator } from './helpers';

let emu: RunningEmulator;
let key: string;
let stripe: Stripe;
const noRedirects = { automatic_payment_methods: { enabled: true, allow_redirects: 'never' as const } };

beforeAll(async () => {
  emu = await withEmulator();
});
afterAll(() => emu.close());
beforeEach(() => {
  key = freshKey();
  stripe = stripeFor(emu, key);
});
afterEach(() => expect(emu.errors()).toEqual([]));

describe('customers', () => {
  it('create, retrieve, update, list by email, delete', async () => {
    const c = await stripe.customers.create({ email: 'ada@example.com', name: 'Ada', metadata: { buyer: '1' } });
    expect(c.id).toMatch(/^cus_/);
    expect((await stripe.customers.update(c.id, { name: 'Ada L.' })).name).toBe('Ada L.');
    expect((await stripe.customers.list({ email: 'ada@example.com' })).data.map((x) => x.id)).toEqual([c.id]);
    expect(await stripe.customers.del(c.id)).toMatchObject({ id: c.id, deleted: true });
    await expect(stripe.customers.retrieve(c.id)).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe('payment methods (§2.2, §10)', () => {
  it('pm_card_* ids create a fresh PM each time with the card details', async () => {
    const a = await stripe.paymentMethods.retrieve('pm_card_amex');
    const b = await stripe.paymentMethods.retrieve('pm_card_amex');
    expect(a.id).not.toBe(b.id);
    expect(a.card).toMatchObject({ brand: 'amex', last4: '0005' });
  });

  it('attach, list, detach; a detached PM can never be used again', async () => {
    const c = await stripe.customers.create();
    const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: c.id });
    expect((await stripe.paymentMethods.list({ customer: c.id, type: 'card' })).data.map((p) => p.id)).toEqual([pm.id]);
    const detached = await stripe.paymentMethods.detach(pm.id);
    expect(detached.customer).toBeNull();
    expect((await stripe.customers.listPaymentMethods(c.id)).data).toHaveLength(0);
    await expect(stripe.paymentMethods.attach(pm.id, { customer: c.id })).rejects.toMatchObject({ statusCode: 400 });
    await expect(stripe.paymentMethods.detach(pm.id)).rejects.toMatchObject({ statusCode: 400 });
    const types = (await stripe.events.list()).data.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['payment_method.attached', 'payment_method.detached']));
  });

  it('a card that declines cannot be attached', async () => {
    const c = await stripe.customers.create();
    await expect(stripe.paymentMethods.attach('pm_card_chargeDeclined', { customer: c.id })).rejects.toMatchObject({ statusCode: 402, code: 'card_declined' });
  });

  it('publishable keys create PMs from card numbers; bad numbers are card errors', async () => {
    const pk = emu.keysFor(key).publishableKey;
    const ok = await raw(emu, 'POST', '/v1/payment_methods', 'type=card&card[number]=4242424242424242&card[exp_month]=12&card[exp_year]=2040&card[cvc]=123', { Authorization: `Bearer ${pk}` });
    expect(ok.json).toMatchObject({ object: 'payment_method', card: { last4: '4242', brand: 'visa' } });
    const bad = await raw(emu, 'POST', '/v1/payment_methods', 'type=card&card[number]=4242424242424241&card[exp_month]=12&card[exp_year]=2040', { Authorization: `Bearer ${pk}` });
    expect(bad.status).toBe(402);
    expect(bad.json.error).toMatchObject({ type: 'card_error', code: 'incorrect_number' });
    const expired = await raw(emu, 'POST', '/v1/payment_methods', 'type=card&card[number]=4242424242424242&card[exp_month]=1&card[exp_year]=2020', { Authorization: `Bearer ${pk}` });
    expect(expired.json.error.code).toBe('invalid_expiry_year');
  });
});

describe('setup intents (§2.1)', () => {
  it('confirm without action succeeds and attaches the PM to the customer', async () => {
    const c = await stripe.customers.create();
    const si = await stripe.setupIntents.create({ customer: c.id, payment_method: 'pm_card_visa', confirm: true, ...noRedirects });
    expect(si).toMatchObject({ status: 'succeeded', usage: 'off_session' });
    expect((await stripe.paymentMethods.retrieve(si.payment_method as string)).customer).toBe(c.id);
    const types = (await stripe.events.list()).data.map((e) => e.type).reverse();
    expect(types).toEqual(['customer.created', 'setup_intent.created', 'payment_method.attached', 'setup_intent.succeeded']);
  });

  it('3DS at setup: requires_action, then succeeds or fails through the challenge', async () => {
    const c = await stripe.customers.create();
    const si = await stripe.setupIntents.create({ customer: c.id, payment_method: 'pm_card_authenticationRequiredOnSetup', confirm: true, return_url: 'https://shop.test/setup' });
    expect(si.status).toBe('requires_action');
    expect(si.next_action?.redirect_to_url?.url).toContain(si.id);
    const done = await raw(emu, 'POST', `/_emulator/3ds/${si.id}/complete`, 'mode=redirect');
    const back = new URL(done.headers.location as string);
    expect(back.searchParams.get('setup_intent')).toBe(si.id);
    expect(back.searchParams.get('redirect_status')).toBe('succeeded');
    expect((await stripe.setupIntents.retrieve(si.id)).status).toBe('succeeded');

    const si2 = await stripe.setupIntents.create({ customer: c.id, payment_method: 'pm_card_authenticationRequired', confirm: true, ...noRedirects });
    await raw(emu, 'POST', `/_emulator/3ds/${si2.id}/fail`, '');
    const failed = await stripe.setupIntents.retrieve(si2.id);
    expect(failed.status).toBe('requires_payment_method');
    expect(failed.last_setup_error?.code).toBe('setup_intent_authentication_failure');
  });

  it('a declining card fails the setup with 402', async () => {
    await expect(stripe.setupIntents.create({ payment_method: 'pm_card_chargeDeclinedInsufficientFunds', confirm: true, ...noRedirects })).rejects.toMatchObject({
      statusCode: 402,
      decline_code: 'insufficient_funds',
    });
  });

  it('update, cancel, list', async () => {
    const si = await stripe.setupIntents.create({ ...noRedirects });
    const upd = await stripe.setupIntents.update(si.id, { payment_method: 'pm_card_visa', metadata: { k: 'v' } });
    expect(upd).toMatchObject({ status: 'requires_confirmation', metadata: { k: 'v' } });
    const canceled = await stripe.setupIntents.cancel(si.id, { cancellation_reason: 'abandoned' });
    expect(canceled).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned' });
    await expect(stripe.setupIntents.confirm(si.id)).rejects.toMatchObject({ code: 'setup_intent_unexpected_state' });
    expect((await stripe.setupIntents.list()).data.map((x) => x.id)).toEqual([si.id]);
  });
});

describe('saved cards over time (issue 15 paths)', () => {
  it('a saved card that expires declines off-session with expired_card; the network update (automatically_updated) makes it work again', async () => {
    const e2 = await withEmulator();
    try {
      const s = stripeFor(e2, freshKey());
      const customer = await s.customers.create({ email: 'plan@example.com' });
      const si = await s.setupIntents.create({ customer: customer.id, payment_method: 'pm_card_visa', confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' } });
      const pmId = si.payment_method as string;
      const pm = await s.paymentMethods.retrieve(pmId);
      const charge = () =>
        s.paymentIntents.create({ amount: 2500, currency: 'eur', customer: customer.id, payment_method: pmId, off_session: true, confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' } });
      expect((await charge()).status).toBe('succeeded');
      // Move the clock past the card's expiry.
      const now = new Date();
      const months = (pm.card!.exp_year - now.getUTCFullYear()) * 12 + (pm.card!.exp_month - (now.getUTCMonth() + 1)) + 2;
      e2.advanceClock(months * 31 * 86400);
      await expect(charge()).rejects.toMatchObject({ type: 'StripeCardError', code: 'expired_card', decline_code: 'expired_card' });
      const updated = await raw(e2, 'POST', `/_emulator/payment_methods/${pmId}/automatically_update`, '');
      expect(updated.json.card.exp_year).toBeGreaterThan(pm.card!.exp_year);
      const events = await s.events.list({ type: 'payment_method.automatically_updated' });
      expect(events.data).toHaveLength(1);
      expect((events.data[0]!.data.previous_attributes as { card: { exp_year: number } }).card.exp_year).toBe(pm.card!.exp_year);
      expect((await charge()).status).toBe('succeeded');
    } finally {
      await e2.close();
    }
  });
});
