import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import type { RunningEmulator } from '../src';
import { freshKey, raw, stripeFor, webhookReceiver, withEmulator } from './helpers';

let emu: RunningEmulator;
let stripe: Stripe;
const verifier = new Stripe('sk_test_verifier');
const noRedirects = { automatic_payment_methods: { enabled: true, allow_redirects: 'never' as const } };

beforeAll(async () => {
  emu = await withEmulator();
});
afterAll(() => emu.close());
beforeEach(async () => {
  emu.reset();
  emu.configureWebhooks({ duplicateRate: 0, reorder: false, delayMs: 0, retryDelaysMs: [20, 40, 80] });
  stripe = stripeFor(emu, freshKey());
});
afterEach(() => expect(emu.errors()).toEqual([]));

describe('webhook endpoints', () => {
  it('returns the secret only on create; lists, updates and deletes', async () => {
    const we = await stripe.webhookEndpoints.create({ url: 'http://127.0.0.1:9/hook', enabled_events: ['payment_intent.succeeded'], api_version: '2026-10-28.endive' as never });
    expect(we.secret).toMatch(/^whsec_/);
    expect((await stripe.webhookEndpoints.retrieve(we.id)).secret).toBeUndefined();
    const updated = await stripe.webhookEndpoints.update(we.id, { enabled_events: ['*'], disabled: true });
    expect(updated).toMatchObject({ enabled_events: ['*'], status: 'disabled' });
    expect((await stripe.webhookEndpoints.list()).data.map((w) => w.id)).toEqual([we.id]);
    expect(await stripe.webhookEndpoints.del(we.id)).toMatchObject({ id: we.id, deleted: true });
    await expect(stripe.webhookEndpoints.retrieve(we.id)).rejects.toMatchObject({ statusCode: 404 });
  });

  it('validates url and enabled_events', async () => {
    await expect(stripe.webhookEndpoints.create({ url: 'not a url', enabled_events: ['*'] })).rejects.toMatchObject({ param: 'url' });
    await expect(stripe.webhookEndpoints.create({ url: 'http://127.0.0.1/x', enabled_events: ['Bad Event' as never] })).rejects.toMatchObject({ param: 'enabled_events[0]' });
  });
});

describe('delivery', () => {
  it('delivers signed events that stripe-node constructEvent accepts; a forged secret is rejected', async () => {
    const rx = await webhookReceiver();
    try {
      const we = await stripe.webhookEndpoints.create({ url: rx.url, enabled_events: ['payment_intent.succeeded', 'charge.succeeded'] });
      const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: 'pm_card_visa', confirm: true, ...noRedirects }, { idempotencyKey: 'pay-1' });
      await emu.flushWebhooks();
      expect(rx.received).toHaveLength(2);
      const events = rx.received.map((r) => verifier.webhooks.constructEvent(r.body, r.signature, we.secret as string));
      expect(events.map((e) => e.type)).toEqual(['charge.succeeded', 'payment_intent.succeeded']);
      const succeeded = events[1] as Stripe.PaymentIntentSucceededEvent;
      expect(succeeded.data.object.id).toBe(pi.id);
      expect(succeeded.api_version).toBe('2026-10-28.endive');
      expect(succeeded.request?.idempotency_key).toBe('pay-1');
      expect(rx.received[0]?.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(rx.received[0]?.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64},v0=[0-9a-f]{64}$/);
      const first = rx.received[0] as { body: string; signature: string };
      expect(() => verifier.webhooks.constructEvent(first.body, first.signature, 'whsec_forged')).toThrow(Stripe.errors.StripeSignatureVerificationError);
      expect(() => verifier.webhooks.constructEvent(first.body.replace('1000', '1001'), first.signature, we.secret as string)).toThrow(Stripe.errors.StripeSignatureVerificationError);
      const listed = await stripe.events.retrieve(succeeded.id);
      expect(listed.pending_webhooks).toBe(0);
    } finally {
      await rx.close();
    }
  });

  it('during a secret rotation each delivery carries one v1 per active secret; both verify', async () => {
    const rx = await webhookReceiver();
    try {
      const we = await stripe.webhookEndpoints.create({ url: rx.url, enabled_events: ['customer.created'] });
      const rolled = await raw(emu, 'POST', `/_emulator/webhook_endpoints/${we.id}/roll_secret`, 'expires_in_seconds=3600');
      const newSecret = rolled.json.secret as string;
      expect(newSecret).not.toBe(we.secret);
      await stripe.customers.create({ email: 'rot@example.com' });
      await emu.flushWebhooks();
      const r = rx.received[0] as { body: string; signature: string };
      expect(r.signature.match(/v1=/g)).toHaveLength(2);
      expect(verifier.webhooks.constructEvent(r.body, r.signature, we.secret as string).type).toBe('customer.created');
      expect(verifier.webhooks.constructEvent(r.body, r.signature, newSecret).type).toBe('customer.created');
      // A roll without grace period: only the newest secret signs from then on.
      const other = await stripe.webhookEndpoints.create({ url: rx.url, enabled_events: ['customer.updated'] });
      const hard = await raw(emu, 'POST', `/_emulator/webhook_endpoints/${other.id}/roll_secret`, 'expires_in_seconds=0');
      const c = await stripe.customers.create();
      await stripe.customers.update(c.id, { name: 'x' });
      await emu.flushWebhooks();
      const r2 = rx.received.find((x) => x.body.includes('customer.updated')) as { body: string; signature: string };
      expect(r2.signature.match(/v1=/g)).toHaveLength(1);
      expect(() => verifier.webhooks.constructEvent(r2.body, r2.signature, other.secret as string)).toThrow(Stripe.errors.StripeSignatureVerificationError);
      expect(verifier.webhooks.constructEvent(r2.body, r2.signature, hard.json.secret).type).toBe('customer.updated');
    } finally {
      await rx.close();
    }
  });

  it('retries non-2xx answers with backoff and re-signs each attempt', async () => {
    const rx = await webhookReceiver((n) => (n < 3 ? 500 : 200));
    try {
      const we = await stripe.webhookEndpoints.create({ url: rx.url, enabled_events: ['customer.created'] });
      await stripe.customers.create();
      await emu.flushWebhooks();
      expect(rx.received).toHaveLength(3);
      const ids = rx.received.map((r) => verifier.webhooks.constructEvent(r.body, r.signature, we.secret as string).id);
      expect(new Set(ids).size).toBe(1);
      expect(emu.deliveries().map((d) => [d.attempt, d.status])).toEqual([[1, 500], [2, 500], [3, 200]]);
    } finally {
      await rx.close();
    }
  });

  it('3xx is a failure too, and retries stop after the configured schedule', async () => {
    const rx = await webhookReceiver(() => 302);
    try {
      await stripe.webhookEndpoints.create({ url: rx.url, enabled_events: ['customer.created'] });
      const c = await stripe.customers.create();
      await emu.flushWebhooks();
      expect(rx.received).toHaveLength(4); // 1 attempt + 3 retries
      const failed = await stripe.events.list({ delivery_success: false });
      expect(failed.data.map((e) => (e.data.object as { id: string }).id)).toEqual([c.id]);
    } finally {
      await rx.close();
    }
  });

  it('duplicates every event when duplicateRate is 1', async () => {
    const rx = await webhookReceiver();
    try {
      emu.configureWebhooks({ duplicateRate: 1 });
      const we = await stripe.webhookEndpoints.create({ url: rx.url, enabled_events: ['customer.created'] });
      await stripe.customers.create();
      await emu.flushWebhooks();
      const ids = rx.received.map((r) => verifier.webhooks.constructEvent(r.body, r.signature, we.secret as string).id);
      expect(ids).toHaveLength(2);
      expect(ids[0]).toBe(ids[1]);
    } finally {
      await rx.close();
    }
  });

  it('reverses the order of the events of one call when asked (succeeded before created)', async () => {
    const rx = await webhookReceiver();
    try {
      await raw(emu, 'POST', '/_emulator/webhooks/config', 'reorder=reverse');
      const we = await stripe.webhookEndpoints.create({ url: rx.url, enabled_events: ['*'] });
      await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: 'pm_card_visa', confirm: true, capture_method: 'automatic', ...noRedirects });
      await emu.flushWebhooks();
      const types = rx.received.map((r) => verifier.webhooks.constructEvent(r.body, r.signature, we.secret as string).type);
      expect(types).toEqual(['payment_intent.succeeded', 'charge.succeeded', 'payment_intent.created']);
    } finally {
      await rx.close();
    }
  });

  it('an endpoint only receives the types it enabled; the event keeps the endpoint api_version', async () => {
    const rx = await webhookReceiver();
    try {
      const we = await stripe.webhookEndpoints.create({ url: rx.url, enabled_events: ['payment_intent.canceled'], api_version: '2025-03-31.basil' as never });
      const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur' });
      await stripe.paymentIntents.cancel(pi.id);
      await emu.flushWebhooks();
      expect(rx.received).toHaveLength(1);
      const e = verifier.webhooks.constructEvent((rx.received[0] as { body: string }).body, (rx.received[0] as { signature: string }).signature, we.secret as string);
      expect(e.type).toBe('payment_intent.canceled');
      expect(e.api_version).toBe('2025-03-31.basil');
    } finally {
      await rx.close();
    }
  });

  it('a delivery timeout counts as a failure', async () => {
    // A receiver that never answers.
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const rx = { close: () => new Promise<void>((resolve) => { silent.closeAllConnections(); silent.close(() => resolve()); }) };
    try {
      emu.configureWebhooks({ timeoutMs: 50, retryDelaysMs: [] });
      await stripe.webhookEndpoints.create({ url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/never`, enabled_events: ['customer.created'] });
      await stripe.customers.create();
      await emu.flushWebhooks();
      expect(emu.deliveries()[0]).toMatchObject({ status: null, attempt: 1 });
      expect(emu.deliveries()[0]?.error).toEqual(expect.any(String));
    } finally {
      await rx.close();
    }
  });

  it('trigger control emits an arbitrary event to endpoints', async () => {
    const rx = await webhookReceiver();
    try {
      const key = freshKey();
      const s = stripeFor(emu, key);
      const we = await s.webhookEndpoints.create({ url: rx.url, enabled_events: ['*'] });
      const res = await raw(emu, 'POST', '/_emulator/events/trigger', `type=payout.failed&key=${key}&object[id]=po_123&object[object]=payout`);
      expect(res.json.type).toBe('payout.failed');
      await emu.flushWebhooks();
      const e = verifier.webhooks.constructEvent((rx.received[0] as { body: string }).body, (rx.received[0] as { signature: string }).signature, we.secret as string);
      expect(e).toMatchObject({ id: res.json.id, type: 'payout.failed', data: { object: { id: 'po_123' } } });
    } finally {
      await rx.close();
    }
  });
});

describe('events API (§5.5)', () => {
  it('lists with types[], created[gt], starting_after and limit; retrieves by id', async () => {
    const c = await stripe.customers.create();
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', customer: c.id, payment_method: 'pm_card_visa', confirm: true, capture_method: 'automatic', ...noRedirects });
    await stripe.paymentIntents.update(pi.id, { metadata: { x: 'y' } });
    const all = await stripe.events.list({ limit: 100 });
    expect(all.data.map((e) => e.type)).toEqual(['payment_intent.succeeded', 'charge.succeeded', 'payment_intent.created', 'customer.created']);
    const typed = await stripe.events.list({ types: ['customer.created', 'charge.succeeded'] });
    expect(typed.data.map((e) => e.type)).toEqual(['charge.succeeded', 'customer.created']);
    const wildcard = await stripe.events.list({ type: 'payment_intent.*' });
    expect(wildcard.data).toHaveLength(2);
    const page = await stripe.events.list({ limit: 2, starting_after: all.data[1]?.id });
    expect(page.data.map((e) => e.type)).toEqual(['payment_intent.created', 'customer.created']);
    const newest = all.data[0] as Stripe.Event;
    expect((await stripe.events.list({ created: { gt: newest.created } })).data).toHaveLength(0);
    expect((await stripe.events.list({ created: { gte: newest.created } })).data.length).toBeGreaterThan(0);
    expect((await stripe.events.retrieve(newest.id)).type).toBe('payment_intent.succeeded');
    await expect(stripe.events.list({ type: 'a.b', types: ['c.d'] })).rejects.toMatchObject({ code: 'parameters_exclusive' });
    await expect(stripe.events.list({ limit: 101 })).rejects.toMatchObject({ param: 'limit' });
  });

  it('*.updated events carry previous_attributes', async () => {
    const c = await stripe.customers.create({ email: 'old@example.com' });
    await stripe.customers.update(c.id, { email: 'new@example.com' });
    const [updated] = (await stripe.events.list({ type: 'customer.updated' })).data;
    expect(updated?.data.previous_attributes).toEqual({ email: 'old@example.com' });
    expect((updated?.data.object as Stripe.Customer).email).toBe('new@example.com');
  });
});

describe('lost deliveries', () => {
  it('dropRate 1 loses every event; it stays listed as not delivered', async () => {
    const rx = await webhookReceiver();
    try {
      await raw(emu, 'POST', '/_emulator/webhooks/config', 'drop_rate=1');
      await stripe.webhookEndpoints.create({ url: rx.url, enabled_events: ['customer.created'] });
      const c = await stripe.customers.create();
      await emu.flushWebhooks();
      expect(rx.received).toHaveLength(0);
      expect(emu.deliveries()).toEqual([expect.objectContaining({ error: 'dropped', attempt: 0 })]);
      const pending = await stripe.events.list({ delivery_success: false });
      expect(pending.data.map((e) => (e.data.object as { id: string }).id)).toEqual([c.id]);
    } finally {
      await raw(emu, 'POST', '/_emulator/webhooks/config', 'drop_rate=0');
      await rx.close();
    }
  });
});

describe('event snapshots', () => {
  it('an event keeps the object as it was when the event happened', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', capture_method: 'manual', automatic_payment_methods: { enabled: true, allow_redirects: 'never' } });
    await stripe.paymentIntents.update(pi.id, { metadata: { step: 'later' }, payment_method_options: { card: { request_three_d_secure: 'any' } } });
    const [created] = (await stripe.events.list({ type: 'payment_intent.created' })).data;
    const snapshot = created?.data.object as Stripe.PaymentIntent;
    expect(snapshot.metadata).toEqual({});
    expect(snapshot.payment_method_options?.card?.request_three_d_secure).toBe('automatic');
    await stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' });
    await raw(emu, 'POST', `/_emulator/3ds/${pi.id}/complete`, '');
    await stripe.paymentIntents.capture(pi.id);
    const [authorized] = (await stripe.events.list({ type: 'payment_intent.amount_capturable_updated' })).data;
    expect(authorized?.data.object).toMatchObject({ status: 'requires_capture', amount_capturable: 1000, amount_received: 0 });
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');
  });
});
