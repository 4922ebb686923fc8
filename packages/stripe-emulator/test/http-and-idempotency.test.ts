import Stripe from 'stripe';
import type { RunningEmulator } from '../src';
import { freshKey, raw, stripeFor, withEmulator } from './helpers';

let emu: RunningEmulator;
let key: string;
let stripe: Stripe;
const auth = () => ({ Authorization: `Bearer ${key}` });

beforeAll(async () => {
  emu = await withEmulator();
});
afterAll(() => emu.close());
beforeEach(() => {
  key = freshKey();
  stripe = stripeFor(emu, key);
});
afterEach(async () => {
  await raw(emu, 'DELETE', '/_emulator/faults');
  expect(emu.errors()).toEqual([]);
});

describe('keys and accounts', () => {
  it('refuses live keys with a message saying the emulator is test-only', async () => {
    for (const live of ['sk_live_abc', 'rk_live_abc']) {
      const res = await raw(emu, 'GET', '/v1/customers', undefined, { Authorization: `Bearer ${live}` });
      expect(res.status).toBe(401);
      expect(res.json.error.message).toMatch(/development and tests only/);
    }
    await expect(new Stripe('sk_live_xyz', { host: emu.host, port: emu.port, protocol: 'http' }).customers.list()).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
  });

  it('requires a key, and rejects unknown key shapes', async () => {
    expect((await raw(emu, 'GET', '/v1/customers')).status).toBe(401);
    expect((await raw(emu, 'GET', '/v1/customers', undefined, { Authorization: 'Bearer nonsense' })).json.error.message).toMatch(/Invalid API Key/);
  });

  it('accepts Basic auth with the key as username', async () => {
    const res = await raw(emu, 'GET', '/v1/customers', undefined, { Authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` });
    expect(res.status).toBe(200);
  });

  it('each sk_test_ key is an isolated account', async () => {
    const other = stripeFor(emu, freshKey());
    const c = await stripe.customers.create({ email: 'x@example.com' });
    await expect(other.customers.retrieve(c.id)).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
    expect((await stripe.customers.retrieve(c.id)).id).toBe(c.id);
  });

  it('marks every response as the emulator, echoes Stripe-Version and a Request-Id', async () => {
    const res = await raw(emu, 'GET', '/v1/balance', undefined, { ...auth(), 'Stripe-Version': '2025-03-31.basil' });
    expect(res.headers['x-kassa-emulator']).toMatch(/development and tests only/);
    expect(res.headers['stripe-version']).toBe('2025-03-31.basil');
    expect(res.headers['request-id']).toMatch(/^req_/);
    expect((await raw(emu, 'GET', '/v1/balance', undefined, { ...auth(), 'Stripe-Version': 'yesterday' })).json.error.param).toBe('Stripe-Version');
  });

  it('answers CORS preflights for browser pages on other origins', async () => {
    const res = await raw(emu, 'OPTIONS', '/v1/payment_methods', undefined, { Origin: 'http://127.0.0.1:9', 'Access-Control-Request-Method': 'POST' });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-headers']).toContain('Stripe-Account');
  });
});

describe('request parsing and errors', () => {
  it('names unknown parameters, also nested ones', async () => {
    await expect(stripe.paymentIntents.create({ amount: 1000, currency: 'eur', colour: 'red' } as never)).rejects.toMatchObject({ statusCode: 400, code: 'parameter_unknown', param: 'colour' });
    await expect(stripe.paymentIntents.create({ amount: 1000, currency: 'eur', automatic_payment_methods: { enabled: true, foo: 1 } } as never)).rejects.toMatchObject({
      param: 'automatic_payment_methods[foo]',
      message: 'Received unknown parameter: automatic_payment_methods[foo]',
    });
  });

  it('names missing and malformed parameters', async () => {
    await expect(stripe.paymentIntents.create({ currency: 'eur' } as never)).rejects.toMatchObject({ code: 'parameter_missing', param: 'amount' });
    const res = await raw(emu, 'POST', '/v1/payment_intents', 'amount=12x&currency=eur', auth());
    expect(res.json.error).toMatchObject({ type: 'invalid_request_error', code: 'parameter_invalid_integer', param: 'amount' });
    const broken = await raw(emu, 'POST', '/v1/customers', 'metadata[a=1', auth());
    expect(broken.status).toBe(400);
    expect(broken.json.error.type).toBe('invalid_request_error');
  });

  it('endive removed payment_method_types; allowed_payment_method_types is accepted', async () => {
    await expect(stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method_types: ['card'] } as never)).rejects.toMatchObject({ param: 'payment_method_types' });
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', allowed_payment_method_types: ['card'] });
    expect(pi.payment_method_types).toEqual(['card']);
    const basil = stripeFor(emu, key, { apiVersion: '2025-03-31.basil' });
    const old = await basil.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method_types: ['card'] } as never);
    expect(old.automatic_payment_methods).toBeNull();
  });

  it('accepts curl-style x[]= arrays and unset-by-empty-string', async () => {
    const res = await raw(emu, 'POST', '/v1/customers', 'email=a%40b.test&metadata[k]=v&metadata[j]=w&expand[]=invoice_settings', auth());
    expect(res.json.metadata).toEqual({ k: 'v', j: 'w' });
    const upd = await raw(emu, 'POST', `/v1/customers/${res.json.id}`, 'metadata[k]=', auth());
    expect(upd.json.metadata).toEqual({ j: 'w' });
  });

  it('refuses oversized bodies', async () => {
    const res = await raw(emu, 'POST', '/v1/customers', `description=${'x'.repeat(1_100_000)}`, auth()).catch((e: Error) => e);
    // Either the 413 arrives or the socket is closed while the client is still sending.
    if (res instanceof Error) expect(res.message).toMatch(/fetch failed|socket|reset/i);
    else expect(res.status).toBe(413);
    expect((await stripe.customers.list()).data).toHaveLength(0);
  });

  it('404s unknown URLs and resources in Stripe shape', async () => {
    const res = await raw(emu, 'GET', '/v1/nothing', undefined, auth());
    expect(res.status).toBe(404);
    expect(res.json.error.message).toMatch(/Unrecognized request URL/);
    await expect(stripe.paymentIntents.retrieve('pi_missing')).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });
});

describe('currency rules (§7)', () => {
  it.each([
    ['usd', 49, 'amount_too_small'],
    ['jpy', 49, 'amount_too_small'],
    ['gbp', 29, 'amount_too_small'],
    ['eur', 123456789, 'amount_too_large'],
    ['kwd', 5125, 'amount_invalid'],
    ['isk', 550, 'amount_invalid'],
    ['ugx', 150050, 'amount_invalid'],
  ])('%s %d → %s', async (currency, amount, code) => {
    await expect(stripe.paymentIntents.create({ amount, currency })).rejects.toMatchObject({ statusCode: 400, code, param: 'amount' });
  });

  it.each([
    ['usd', 50],
    ['jpy', 50],
    ['kwd', 5120],
    ['isk', 500],
    ['ugx', 150000],
  ])('%s %d is fine', async (currency, amount) => {
    expect((await stripe.paymentIntents.create({ amount, currency })).amount).toBe(amount);
  });

  it('UGX as zero-decimal when configured (§13.3)', async () => {
    const e2 = await withEmulator({ ugxMode: 'zero-decimal' });
    try {
      expect((await stripeFor(e2).paymentIntents.create({ amount: 1505, currency: 'ugx' })).amount).toBe(1505);
    } finally {
      await e2.close();
    }
  });
});

describe('idempotency (§6)', () => {
  it('replays the stored response for the same key and params, with Idempotent-Replayed', async () => {
    const body = 'amount=1000&currency=eur&metadata[o]=1';
    const first = await raw(emu, 'POST', '/v1/payment_intents', body, { ...auth(), 'Idempotency-Key': 'k1' });
    const second = await raw(emu, 'POST', '/v1/payment_intents', 'metadata[o]=1&currency=eur&amount=1000', { ...auth(), 'Idempotency-Key': 'k1' });
    expect(second.text).toBe(first.text);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect((await stripe.paymentIntents.list()).data).toHaveLength(1);
  });

  it('replays errors too (a decline is not retried into a second charge)', async () => {
    const params = { amount: 1000, currency: 'eur', payment_method: 'pm_card_chargeDeclined', confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' as const } };
    const e1 = await stripe.paymentIntents.create(params, { idempotencyKey: 'decline-1' }).catch((e) => e);
    const e2 = await stripe.paymentIntents.create(params, { idempotencyKey: 'decline-1' }).catch((e) => e);
    expect(e1.statusCode).toBe(402);
    expect(e2.statusCode).toBe(402);
    expect(e2.headers['idempotent-replayed']).toBe('true');
    expect(e2.raw.charge).toBe(e1.raw.charge);
    expect((await stripe.charges.list()).data).toHaveLength(1);
  });

  it('same key with different params → 400 idempotency_error', async () => {
    await stripe.customers.create({ email: 'a@x.test' }, { idempotencyKey: 'k2' });
    const err = await stripe.customers.create({ email: 'b@x.test' }, { idempotencyKey: 'k2' }).catch((e) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(err.statusCode).toBe(400);
    expect(err.message).toMatch(/Try using a key other than 'k2'/);
  });

  it('keys are scoped per account', async () => {
    const a = await stripe.customers.create({ email: 'a@x.test' }, { idempotencyKey: 'shared' });
    const b = await stripeFor(emu, freshKey()).customers.create({ email: 'b@x.test' }, { idempotencyKey: 'shared' });
    expect(b.id).not.toBe(a.id);
  });

  it('a concurrent request with the same key gets 409 idempotency_key_in_use', async () => {
    await raw(emu, 'POST', '/_emulator/faults', 'kind=slow&delay_ms=150&count=1&path=/v1/customers');
    const slow = raw(emu, 'POST', '/v1/customers', 'email=a%40x.test', { ...auth(), 'Idempotency-Key': 'busy' });
    await new Promise((r) => setTimeout(r, 30));
    const second = await raw(emu, 'POST', '/v1/customers', 'email=a%40x.test', { ...auth(), 'Idempotency-Key': 'busy' });
    expect(second.status).toBe(409);
    expect(second.json.error.code).toBe('idempotency_key_in_use');
    expect((await slow).status).toBe(200);
    const third = await raw(emu, 'POST', '/v1/customers', 'email=a%40x.test', { ...auth(), 'Idempotency-Key': 'busy' });
    expect(third.headers['idempotent-replayed']).toBe('true');
  });

  it('validation errors are not stored: a corrected retry with the same key executes', async () => {
    const bad = await raw(emu, 'POST', '/v1/customers', 'emial=a', { ...auth(), 'Idempotency-Key': 'typo' });
    expect(bad.json.error.code).toBe('parameter_unknown');
    const good = await raw(emu, 'POST', '/v1/customers', 'emial=a', { ...auth(), 'Idempotency-Key': 'typo' });
    expect(good.headers['idempotent-replayed']).toBeUndefined();
  });

  it('expired keys run again', async () => {
    await stripe.customers.create({ email: 'a@x.test' }, { idempotencyKey: 'old' });
    await raw(emu, 'POST', '/_emulator/idempotency/expire', '');
    await stripe.customers.create({ email: 'a@x.test' }, { idempotencyKey: 'old' });
    expect((await stripe.customers.list()).data).toHaveLength(2);
  });
});

describe('fault injection and stripe-node retries', () => {
  it('a dropped connection after commit is retried by stripe-node and replayed, not duplicated', async () => {
    await raw(emu, 'POST', '/_emulator/faults', 'kind=drop_after_commit&count=1&path=/v1/refunds');
    const s = stripeFor(emu, key, { maxNetworkRetries: 2 });
    const pi = await s.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: 'pm_card_visa', confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' } });
    const refund = await s.refunds.create({ payment_intent: pi.id, amount: 400 });
    expect(refund.amount).toBe(400);
    const refunds = await s.refunds.list({ payment_intent: pi.id });
    expect(refunds.data).toHaveLength(1);
  });

  it('500 with Stripe-Should-Retry: false is not retried', async () => {
    await raw(emu, 'POST', '/_emulator/faults', 'kind=error_500&count=1&should_retry=false&path=/v1/customers');
    const s = stripeFor(emu, key, { maxNetworkRetries: 2 });
    await expect(s.customers.create()).rejects.toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect((await s.customers.list()).data).toHaveLength(0);
  });

  it('a plain 500 is retried by stripe-node and then succeeds', async () => {
    await raw(emu, 'POST', '/_emulator/faults', 'kind=error_500&count=1&path=/v1/customers&method=POST');
    const s = stripeFor(emu, key, { maxNetworkRetries: 2 });
    const c = await s.customers.create({ email: 'r@x.test' });
    expect(c.email).toBe('r@x.test');
  });

  it('429 rate limits surface as StripeRateLimitError and are only retried when Stripe-Should-Retry says so', async () => {
    await raw(emu, 'POST', '/_emulator/faults', 'kind=rate_limit_429&count=1&path=/v1/balance');
    await expect(stripe.balance.retrieve()).rejects.toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    await raw(emu, 'POST', '/_emulator/faults', 'kind=lock_timeout_429&count=1&should_retry=true&path=/v1/balance');
    const s = stripeFor(emu, key, { maxNetworkRetries: 1 });
    expect((await s.balance.retrieve()).object).toBe('balance');
  });

  it('faults at a rate below 1 hit only some requests', async () => {
    await raw(emu, 'POST', '/_emulator/faults', 'kind=error_500&rate=0.5&path=/v1/balance&should_retry=false');
    const results = await Promise.all(Array.from({ length: 40 }, () => stripe.balance.retrieve().then(() => 'ok', () => 'fail')));
    expect(results.filter((r) => r === 'fail').length).toBeGreaterThan(5);
    expect(results.filter((r) => r === 'ok').length).toBeGreaterThan(5);
  });

  it('a timeout fault never answers; stripe-node reports a connection error', async () => {
    await raw(emu, 'POST', '/_emulator/faults', 'kind=timeout&count=1&path=/v1/balance');
    const s = stripeFor(emu, key, { timeout: 200 });
    await expect(s.balance.retrieve()).rejects.toBeInstanceOf(Stripe.errors.StripeConnectionError);
  });
});

describe('routing', () => {
  it('serves the Stripe.js double with and without the trailing slash, and the home page', async () => {
    for (const path of ['/v3/', '/v3', '/js/stripe.js']) {
      const res = await raw(emu, 'GET', path);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/javascript/);
      expect(res.text).toContain('window.Stripe = Stripe');
    }
    expect((await raw(emu, 'GET', '/')).text).toMatch(/development and tests only/);
    expect((await raw(emu, 'GET', '/v1/customers/', undefined, auth())).status).toBe(200);
  });
});
