import Stripe from 'stripe';
import type { RunningEmulator } from '../src';
import { freshKey, raw, stripeFor, withEmulator } from './helpers';

/** §6.3 rate limiting (token bucket per account), injected failures for a run, and the counters a benchmark reads. */

describe('rate limiting (§6.3)', () => {
  let emu: RunningEmulator;
  /** The limiter's clock, moved by hand so refills are exact. */
  let nowMs = 0;
  beforeAll(async () => {
    emu = await withEmulator({ rateLimit: { enabled: true, clock: () => nowMs } });
  });
  afterAll(() => emu.close());
  afterEach(() => expect(emu.errors()).toEqual([]));

  const burst = async (stripe: Stripe, n: number): Promise<{ ok: number; limited: Stripe.errors.StripeError[] }> => {
    const limited: Stripe.errors.StripeError[] = [];
    let ok = 0;
    for (let i = 0; i < n; i++) {
      try {
        await stripe.customers.list({ limit: 1 });
        ok++;
      } catch (err) {
        limited.push(err as Stripe.errors.StripeError);
      }
    }
    return { ok, limited };
  };

  it('25 requests per second in test mode per account, as a token bucket; then 429 rate_limit', async () => {
    const key = freshKey();
    const stripe = stripeFor(emu, key);
    const first = await burst(stripe, 30);
    expect(first.ok).toBe(25);
    expect(first.limited).toHaveLength(5);
    expect(first.limited[0]).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(first.limited[0]).toMatchObject({ statusCode: 429, code: 'rate_limit', type: 'StripeRateLimitError' });
    expect(first.limited[0]?.headers?.['stripe-should-retry']).toBe('false');
    // Another account has its own bucket.
    expect((await burst(stripeFor(emu, freshKey()), 3)).ok).toBe(3);
    // 200 ms refill 5 tokens.
    nowMs += 200;
    expect((await burst(stripe, 6)).ok).toBe(5);
    // A full second refills the bucket, never beyond its size.
    nowMs += 5000;
    expect((await burst(stripe, 27)).ok).toBe(25);
    nowMs += 5000;
  });

  it('a limited POST is not stored under its idempotency key: the retry executes', async () => {
    const key = freshKey();
    const stripe = stripeFor(emu, key);
    await burst(stripe, 25);
    await expect(stripe.customers.create({ email: 'a@example.com' }, { idempotencyKey: 'cus-1' })).rejects.toMatchObject({ statusCode: 429 });
    nowMs += 1000;
    const c = await stripe.customers.create({ email: 'a@example.com' }, { idempotencyKey: 'cus-1' });
    expect(c.email).toBe('a@example.com');
    expect((await stripe.customers.list()).data).toHaveLength(1);
    nowMs += 5000;
  });

  it('live mode allows 100/s; per-account rates and Stripe-Should-Retry are configurable at run time', async () => {
    const key = freshKey();
    const stripe = stripeFor(emu, key);
    try {
      emu.configureRateLimit({ mode: 'live' });
      expect((await burst(stripe, 105)).ok).toBe(100);
      nowMs += 5000;
      const res = await raw(emu, 'POST', '/_emulator/rate_limit', `key=${key}&rate_per_second=3&should_retry=true`);
      expect(res.json).toMatchObject({ enabled: true, mode: 'live', should_retry: true });
      const r = await burst(stripe, 5);
      expect(r.ok).toBe(3);
      expect(r.limited[0]?.headers?.['stripe-should-retry']).toBe('true');
      // Other accounts keep the mode's rate.
      expect((await burst(stripeFor(emu, freshKey()), 10)).ok).toBe(10);
      await raw(emu, 'POST', '/_emulator/rate_limit', 'enabled=false');
      expect((await burst(stripe, 10)).ok).toBe(10);
    } finally {
      emu.configureRateLimit({ enabled: true, mode: 'test', shouldRetry: false });
      nowMs += 5000;
    }
  });

  it('counts requests, answers by status and 429s, per account', async () => {
    await raw(emu, 'DELETE', '/_emulator/stats');
    const key = freshKey();
    const stripe = stripeFor(emu, key);
    await burst(stripe, 27);
    const stats = (await raw(emu, 'GET', '/_emulator/stats')).json;
    const account = emu.keysFor(key).account;
    expect(stats).toMatchObject({ requests: 27, rate_limited: 2, by_status: { 200: 25, 429: 2 } });
    expect(stats.accounts[account]).toEqual({ requests: 27, rate_limited: 2 });
    nowMs += 5000;
  });
});

describe('injected failures for a run, and double charges', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await withEmulator({ seed: 7 });
  });
  afterAll(() => emu.close());
  afterEach(() => expect(emu.errors()).toEqual([]));

  const noRedirects = { automatic_payment_methods: { enabled: true, allow_redirects: 'never' as const } };

  /** Charges one instalment until the client sees a success; `keyed` reuses one idempotency key for all attempts. */
  async function chargeInstalment(stripe: Stripe, i: number, keyed: boolean): Promise<{ attempts: number; errors: string[] }> {
    const errors: string[] = [];
    for (let attempt = 1; attempt <= 8; attempt++) {
      try {
        await stripe.paymentIntents.create(
          { amount: 1000, currency: 'eur', payment_method: 'pm_card_visa', confirm: true, metadata: { instalment: `inst-${i}` }, ...noRedirects },
          keyed ? { idempotencyKey: `instalment-${i}` } : {},
        );
        return { attempts: attempt, errors };
      } catch (err) {
        errors.push((err as Stripe.errors.StripeError).type);
      }
    }
    throw new Error(`instalment ${i} never went through`);
  }

  it('answers the configured shares with 500s and timeouts; a client reusing its idempotency key never charges twice, one that does not does', async () => {
    const res = await raw(emu, 'POST', '/_emulator/chaos', 'error_500=0.2&timeout=0.1&timeout_after_commit=0.1&path=/v1/payment_intents');
    expect(res.json.data.map((f: { kind: string }) => f.kind)).toEqual(['error_500', 'timeout', 'timeout_after_commit']);
    const keyedKey = freshKey();
    const naiveKey = freshKey();
    const keyed = stripeFor(emu, keyedKey, { timeout: 400 });
    const naive = stripeFor(emu, naiveKey, { timeout: 400 });
    await raw(emu, 'DELETE', '/_emulator/stats');
    const seen: string[] = [];
    for (let i = 0; i < 15; i++) seen.push(...(await chargeInstalment(keyed, i, true)).errors);
    for (let i = 0; i < 15; i++) seen.push(...(await chargeInstalment(naive, i, false)).errors);
    const stats = (await raw(emu, 'GET', '/_emulator/stats')).json;
    // Every failure the clients saw was injected: 500s as StripeAPIError, timeouts as connection errors.
    expect(seen.filter((t) => t === 'StripeAPIError')).toHaveLength(stats.faults.error_500 ?? 0);
    expect(seen.filter((t) => t === 'StripeConnectionError')).toHaveLength((stats.faults.timeout ?? 0) + (stats.faults.timeout_after_commit ?? 0));
    expect(stats.faults.error_500).toBeGreaterThan(0);
    expect(stats.faults.timeout_after_commit).toBeGreaterThan(0);

    const keyedReport = emu.chargeReport(keyedKey, 'instalment');
    expect(keyedReport).toMatchObject({ succeeded: 15, double_charges: 0, duplicate_metadata: [] });
    const naiveReport = (await raw(emu, 'GET', `/_emulator/charges/report?key=${naiveKey}&metadata_key=instalment`)).json;
    expect(naiveReport.double_charges).toBeGreaterThan(0);
    expect(naiveReport.succeeded).toBe(15 + naiveReport.double_charges);
    expect(naiveReport.duplicate_metadata[0].charges.length).toBeGreaterThan(1);
    expect(keyedReport.succeeded).toBe(15);
    expect(stats.idempotent_replays).toBeGreaterThan(0);

    await raw(emu, 'DELETE', '/_emulator/chaos');
    expect((await raw(emu, 'GET', '/_emulator/faults')).json.data).toEqual([]);
  });

  it('refuses shares outside 0..1 or adding up to more than 1', async () => {
    expect((await raw(emu, 'POST', '/_emulator/chaos', 'error_500=1.5')).status).toBe(400);
    expect((await raw(emu, 'POST', '/_emulator/chaos', 'error_500=0.6&timeout=0.6')).status).toBe(400);
  });
});
