import type { ProviderContext } from '@kassa/core/host';
import type Stripe from 'stripe';
import { StripeProvider, paymentLinkToken, routeEvent, settingsProblems } from '../../src';
import { checkPaymentLinkToken } from '../../src/intents';
import { infoFromIntent, shredInfo } from '../../src/payment-info';
import { eventJobId } from '../../src/webhooks/webhook-route';

const ctx = (settings: Record<string, unknown>) => ({ event: { locale: 'en', slug: 'e' }, settings, clock: { now: () => new Date() }, baseUrl: 'https://k.example' }) as unknown as ProviderContext<never>;

describe('Stripe settings checks the schema cannot express', () => {
  it('refuses mixing test and live keys, and a live key on an emulator (its API or its Stripe.js)', () => {
    expect(settingsProblems({ secretKey: 'sk_test_a', publishableKey: 'pk_live_b' })).toEqual(['secretKey is a test key but publishableKey is a live key']);
    expect(settingsProblems({ secretKey: 'sk_live_a', publishableKey: 'pk_live_b', apiBase: 'http://127.0.0.1:1' })).toEqual([expect.stringMatching(/^a live secretKey must talk to Stripe itself, but this instance sends Stripe requests to http:\/\/127\.0\.0\.1:1/)]);
    expect(settingsProblems({ secretKey: 'sk_live_a', publishableKey: 'pk_live_b', stripeJsUrl: 'http://127.0.0.1:1/v3/' })).toEqual([expect.stringMatching(/needs Stripe's own Stripe\.js/)]);
    expect(settingsProblems({ secretKey: 'sk_live_a', publishableKey: 'pk_live_b', stripeJsUrl: 'https://js.stripe.com/v3/' })).toEqual([]);
    expect(settingsProblems({ secretKey: 'sk_test_a', publishableKey: 'pk_test_b', apiBase: 'http://127.0.0.1:1' })).toEqual([]);
  });
});

describe('StripeProvider without network', () => {
  const p = new StripeProvider();

  it('declares Stripe.js, its frames and API, plus the configured emulator origin, for the CSP', () => {
    expect(p.contentSecurityPolicy(ctx({}))).toEqual({
      scriptSrc: ['https://js.stripe.com'], frameSrc: ['https://js.stripe.com', 'https://hooks.stripe.com'], connectSrc: ['https://api.stripe.com'],
    });
    expect(p.contentSecurityPolicy(ctx({ stripeJsUrl: 'http://127.0.0.1:9/v3/' })).scriptSrc).toContain('http://127.0.0.1:9');
  });

  it('is offered only with both keys and for amounts Stripe can represent', () => {
    const keys = { secretKey: 'sk_test_a', publishableKey: 'pk_test_a' };
    const q = (amount: number, currency: string) => ({ total: { amount, currency }, now: new Date() });
    expect(p.isAllowed(ctx(keys), q(1000, 'EUR'))).toBe(true);
    expect(p.isAllowed(ctx({ secretKey: 'sk_test_a' }), q(1000, 'EUR'))).toBe(false);
    expect(p.isAllowed(ctx(keys), q(5125, 'KWD'))).toBe(false);
    expect(p.isAllowed(ctx(keys), q(5120, 'KWD'))).toBe(true);
  });

  it('renders the checkout panel with Stripe\'s amount (ISK ×100)', () => {
    const vm = p.paymentFormRender(ctx({ publishableKey: 'pk_test_a' }), { amount: 500, currency: 'ISK' });
    expect(vm).toMatchObject({ partial: 'stripe/checkout', data: { amount: 50000, currency: 'isk', publishableKey: 'pk_test_a', captureMethod: 'automatic' } });
  });

  it('reports the intent as matching id and API details, and "Visa ****4242" to the buyer', () => {
    const payment = { info: { intentId: 'pi_1', chargeId: 'ch_1', status: 'succeeded', card: { brand: 'visa', last4: '4242' } } } as never;
    expect(p.matchingId(payment)).toBe('pi_1');
    expect(p.apiPaymentDetails(payment)).toEqual({ intentId: 'pi_1', chargeId: 'ch_1', status: 'succeeded', cardBrand: 'visa', cardLast4: '4242', dispute: null });
    expect(p.paymentPresaleRender(payment)).toBe('Visa ****4242');
    expect(p.paymentRefundSupported({ info: {} } as never)).toBe(false);
  });
});

describe('payment info', () => {
  const pi = {
    id: 'pi_1', status: 'succeeded', capture_method: 'automatic', amount_capturable: 0, amount_received: 2500, cancellation_reason: null, last_payment_error: null,
    latest_charge: { id: 'ch_1', billing_details: { name: 'Jane', email: 'j@x.org', address: { country: 'DE' } }, payment_method_details: { card: { brand: 'visa', last4: '4242', exp_month: 1, exp_year: 2030, country: 'US', three_d_secure: { result: 'authenticated' } } } },
  } as unknown as Stripe.PaymentIntent;

  it('keeps ids, card display fields and the 3DS outcome; shredding keeps only ids and amounts', () => {
    const info = infoFromIntent(pi, 'acct_1') as Record<string, unknown>;
    expect(info).toMatchObject({ intentId: 'pi_1', account: 'acct_1', chargeId: 'ch_1', threeDSecure: 'authenticated', card: { brand: 'visa', last4: '4242' }, billing: { name: 'Jane' } });
    expect(shredInfo(info)).toEqual({ _shredded: true, intentId: 'pi_1', account: 'acct_1', status: 'succeeded', captureMethod: 'automatic', chargeId: 'ch_1', amountCapturable: 0, amountReceived: 2500, cancellationReason: null });
  });
});

describe('event routing and links', () => {
  it('routes each event family to the intent and what to reconcile', () => {
    const row = (type: string, objectId = 'x', intentId: string | null = 'pi_1') => routeEvent({ type, objectId, objectType: '', intentId });
    expect(row('payment_intent.succeeded')).toEqual({ intentId: 'pi_1', scope: {} });
    expect(row('charge.refunded')).toEqual({ intentId: 'pi_1', scope: { refunds: true } });
    expect(row('refund.failed')).toEqual({ intentId: 'pi_1', scope: { refunds: true } });
    expect(row('charge.dispute.funds_withdrawn', 'du_1')).toEqual({ intentId: 'pi_1', scope: { disputeId: 'du_1' } });
    expect(row('customer.created')).toEqual({ intentId: null, scope: {} });
    expect(eventJobId('acct_1', 'evt_1')).toBe('stripe:acct_1:evt_1');
  });

  it('pay links carry an HMAC under the order secret; another payment or secret does not match', () => {
    const t = paymentLinkToken({ secret: 's3cret' }, 'p1');
    expect(checkPaymentLinkToken({ secret: 's3cret' }, 'p1', t)).toBe(true);
    expect(checkPaymentLinkToken({ secret: 's3cret' }, 'p2', t)).toBe(false);
    expect(checkPaymentLinkToken({ secret: 'other' }, 'p1', t)).toBe(false);
    expect(checkPaymentLinkToken({ secret: 's3cret' }, 'p1', t.slice(1))).toBe(false);
  });
});
