import { Eta } from 'eta';
import type { ProviderContext } from '@kassa/core';
import { StripeProvider, stripeViewsDir } from '../../src';

// Every partial the provider names exists and renders its view model (escaped), as the server would include it.
const eta = new Eta({ views: stripeViewsDir, autoEscape: true });
const render = (vm: { partial: string; data: Record<string, unknown> } | null) => {
  if (!vm) throw new Error('no view model');
  return eta.render(vm.partial.replace(/^@?stripe\//, ''), { ...vm.data, csrfToken: 'tok', cspNonce: 'n0nce' });
};
const ctx = { event: { locale: 'en', slug: 'conf' }, settings: { publishableKey: 'pk_test_a', secretKey: 'sk_test_a' }, clock: { now: () => new Date() }, baseUrl: 'https://k.example' } as unknown as ProviderContext<never>;
const order = { id: 'o1', code: 'ABC12', secret: 's3cret' } as never;
const payment = (state: string, info: Record<string, unknown>) => ({ id: '00000000-0000-4000-8000-000000000001', state, info }) as never;

describe('Stripe partials', () => {
  const p = new StripeProvider();

  it('checkout: the amount and, for manual capture, that the card is only authorized', () => {
    const html = render(p.paymentFormRender({ ...ctx, settings: { publishableKey: 'pk_test_a', captureMethod: 'manual' } } as never, { amount: 2500, currency: 'EUR' }));
    expect(html).toContain('€25.00');
    expect(html).toContain('authorized now');
  });

  it('pending: a link back to the pay page for an open attempt, with the last error escaped', () => {
    const html = render(p.paymentPendingRender(ctx, { order, payment: payment('created', { intentId: 'pi_1', status: 'requires_payment_method', lastError: { code: 'x', message: '<b>declined</b>' } }) }));
    expect(html).toContain('https://k.example/plugins/stripe/pay/00000000-0000-4000-8000-000000000001/');
    expect(html).toContain('&lt;b&gt;declined&lt;/b&gt;');
    expect(render(p.paymentPendingRender(ctx, { order, payment: payment('pending', { intentId: 'pi_1', status: 'requires_capture' }) }))).toContain('authorized');
  });

  it('control: intent, card, 3DS, dispute with due date, and capture forms carrying the CSRF token', () => {
    const html = render(p.paymentControlRender(ctx, { order, payment: payment('pending', {
      intentId: 'pi_1', status: 'requires_capture', card: { brand: 'visa', last4: '4242' }, threeDSecure: 'authenticated',
      dispute: { id: 'du_1', status: 'needs_response', dueBy: '2030-03-08T10:00:00.000Z', amount: 2500, currency: 'EUR' },
    }) }));
    for (const s of ['pi_1', 'visa ****4242', 'authenticated', 'du_1', 'needs_response', '2030-03-08T10:00:00.000Z', 'name="_csrf" value="tok"', '/capture', '/release']) expect(html).toContain(s);
  });

  it('pay page: Stripe.js and the inline script carry the CSP nonce', () => {
    const html = render({ partial: 'stripe/payment-element', data: { publishableKey: 'pk_test_a', stripeJsUrl: 'https://js.stripe.com/v3/', intentUrl: '/i', returnUrl: '/r', orderUrl: '/o', amount: '€25.00', orderCode: 'ABC12' } });
    expect(html).toContain('<script src="https://js.stripe.com/v3/" nonce="n0nce">');
    expect(html).toContain('<script nonce="n0nce">');
    expect(html).toContain('data-intent-url="/i"');
  });
});
