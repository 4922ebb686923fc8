import type Stripe from 'stripe';
import type { RunningEmulator } from '../src';
import { freshKey, raw, stripeFor, withEmulator } from './helpers';

/** What Stripe refuses and the emulator now refuses too: currencies, exclusive parameters, descriptors, versions. */
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

it('an unknown currency is refused (also one shaped like a code), a supported one in any case is accepted', async () => {
  await expect(stripe.paymentIntents.create({ amount: 1000, currency: 'xyz' })).rejects.toMatchObject({ statusCode: 400, param: 'currency', message: expect.stringMatching(/^Invalid currency: xyz/) });
  await expect(stripe.paymentIntents.create({ amount: 1000, currency: 'eu' })).rejects.toMatchObject({ param: 'currency' });
  expect((await stripe.paymentIntents.create({ amount: 1000, currency: 'EUR' })).currency).toBe('eur');
  const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' });
  await expect(stripe.paymentIntents.update(pi.id, { currency: 'abc' })).rejects.toMatchObject({ param: 'currency' });
  const acct = await stripe.accounts.create({ type: 'express' });
  await expect(stripe.transfers.create({ amount: 100, currency: 'zzz', destination: acct.id })).rejects.toMatchObject({ param: 'currency' });
});

it('automatic_payment_methods and payment_method_types on one intent are refused (before endive)', async () => {
  const basil = stripeFor(emu, key, { apiVersion: '2025-03-31.basil' });
  const both = { amount: 1000, currency: 'eur', automatic_payment_methods: { enabled: true }, payment_method_types: ['card'] } as unknown as Stripe.PaymentIntentCreateParams;
  await expect(basil.paymentIntents.create(both)).rejects.toMatchObject({ code: 'parameters_exclusive', param: 'automatic_payment_methods' });
  await expect(basil.setupIntents.create({ automatic_payment_methods: { enabled: true }, payment_method_types: ['card'] } as never)).rejects.toMatchObject({ code: 'parameters_exclusive' });
  // Either one alone is fine; explicit types with dynamic payment methods switched off too.
  expect((await basil.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method_types: ['card'] } as never)).payment_method_types).toEqual(['card']);
  expect((await basil.paymentIntents.create({ amount: 1000, currency: 'eur', automatic_payment_methods: { enabled: false }, payment_method_types: ['card'] } as never)).status).toBe('requires_payment_method');
  // On endive the parameter itself is gone.
  await expect(stripe.paymentIntents.create(both)).rejects.toMatchObject({ code: 'parameter_unknown', param: 'payment_method_types' });
  // allowed_payment_method_types filters dynamic payment methods and may go with them.
  expect((await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', automatic_payment_methods: { enabled: true }, allowed_payment_method_types: ['card'] })).status).toBe('requires_payment_method');
});

it('statement descriptor suffix: at most 22 characters, a letter, and prefix + "* " + suffix at most 22', async () => {
  // The account prefix is KASSA (5 characters), so 15 characters of suffix fit exactly.
  const ok = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', statement_descriptor_suffix: 'ORDER 123456789', ...noRedirects });
  expect(ok.statement_descriptor_suffix).toBe('ORDER 123456789');
  await expect(stripe.paymentIntents.create({ amount: 1000, currency: 'eur', statement_descriptor_suffix: 'ORDER 1234567890' })).rejects.toMatchObject({
    param: 'statement_descriptor_suffix',
    message: expect.stringMatching(/KASSA\* ORDER 1234567890' is 23 characters long/),
  });
  await expect(stripe.paymentIntents.create({ amount: 1000, currency: 'eur', statement_descriptor_suffix: 'X'.repeat(23) })).rejects.toMatchObject({ message: expect.stringMatching(/at most 22 characters/) });
  await expect(stripe.paymentIntents.create({ amount: 1000, currency: 'eur', statement_descriptor_suffix: '12345' })).rejects.toMatchObject({ param: 'statement_descriptor_suffix' });
  await expect(stripe.paymentIntents.create({ amount: 1000, currency: 'eur', statement_descriptor_suffix: 'A*B' })).rejects.toMatchObject({ param: 'statement_descriptor_suffix' });
  // Updates are checked the same way, and applied when valid.
  await expect(stripe.paymentIntents.update(ok.id, { statement_descriptor_suffix: 'A much too long suffix' })).rejects.toMatchObject({ param: 'statement_descriptor_suffix' });
  expect((await stripe.paymentIntents.update(ok.id, { statement_descriptor_suffix: 'NEW 1' })).statement_descriptor_suffix).toBe('NEW 1');
  // A full statement_descriptor is not accepted for intents card can pay.
  await expect(stripe.paymentIntents.create({ amount: 1000, currency: 'eur', statement_descriptor: 'KASSA TICKETS' })).rejects.toMatchObject({ param: 'statement_descriptor', message: expect.stringMatching(/statement_descriptor_suffix/) });
});

it("a connected account's own prefix counts for its direct charges", async () => {
  const acct = await stripe.accounts.create({ type: 'custom', settings: { card_payments: { statement_descriptor_prefix: 'LONGPREFIX' } } });
  await raw(emu, 'POST', `/_emulator/accounts/${acct.id}/complete_onboarding`, '');
  await expect(
    stripe.paymentIntents.create({ amount: 1000, currency: 'eur', statement_descriptor_suffix: 'ORDER 12345' }, { stripeAccount: acct.id }),
  ).rejects.toMatchObject({ param: 'statement_descriptor_suffix', message: expect.stringMatching(/LONGPREFIX/) });
  expect((await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', statement_descriptor_suffix: 'ORDER 12345' })).statement_descriptor_suffix).toBe('ORDER 12345');
});

it('an unknown Stripe-Version is refused; released ones (and configured extras) are accepted', async () => {
  const res = await raw(emu, 'GET', '/v1/balance', undefined, { Authorization: `Bearer ${key}`, 'Stripe-Version': '2026-12-01.endive' });
  expect(res.status).toBe(400);
  expect(res.json.error).toMatchObject({ type: 'invalid_request_error', param: 'Stripe-Version', message: expect.stringMatching(/2026-12-01.endive/) });
  await expect(stripeFor(emu, key, { apiVersion: '2024-01-01' }).balance.retrieve()).rejects.toMatchObject({ statusCode: 400 });
  expect((await stripeFor(emu, key, { apiVersion: '2024-06-20' }).balance.retrieve()).object).toBe('balance');
  const extra = await withEmulator({ extraApiVersions: ['2026-11-25.endive'] });
  try {
    expect((await stripeFor(extra, key, { apiVersion: '2026-11-25.endive' }).balance.retrieve()).object).toBe('balance');
  } finally {
    await extra.close();
  }
});

it('webhook endpoints refuse unknown enabled_events and api_version', async () => {
  const url = 'http://127.0.0.1:9/hook';
  await expect(stripe.webhookEndpoints.create({ url, enabled_events: ['payment_intent.exploded' as never] })).rejects.toMatchObject({ param: 'enabled_events[0]' });
  await expect(stripe.webhookEndpoints.create({ url, enabled_events: ['payment_intent.succeeded', 'charge.*' as never] })).rejects.toMatchObject({ param: 'enabled_events[1]' });
  await expect(stripe.webhookEndpoints.create({ url, enabled_events: ['*'], api_version: '2030-01-01' as never })).rejects.toMatchObject({ param: 'api_version' });
  const we = await stripe.webhookEndpoints.create({ url, enabled_events: ['account.updated', 'capability.updated', 'payout.failed'], api_version: '2026-10-28.endive' as never, connect: true });
  expect(we.api_version).toBe('2026-10-28.endive');
  await expect(stripe.webhookEndpoints.update(we.id, { enabled_events: ['account.deleted' as never] })).rejects.toMatchObject({ param: 'enabled_events[0]' });
});
