import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Eta } from 'eta';
import type { ProviderContext } from '@kassa/core/host';
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

  it('pay page: the inline script carries the CSP nonce, Stripe.js never (the host list decides whether it runs)', () => {
    const html = render({ partial: 'stripe/payment-element', data: { publishableKey: 'pk_test_a', stripeJsUrl: 'https://js.stripe.com/v3/', intentUrl: '/i', returnUrl: '/r', orderUrl: '/o', amount: '€25.00', orderCode: 'ABC12' } });
    expect(html).toContain('<script src="https://js.stripe.com/v3/"></script>');
    expect(html).toContain('<script nonce="n0nce">');
    expect(html).toContain('data-intent-url="/i"');
  });
});

/*
 * The partials render inside the server's layout, styled by its one stylesheet (kassa.css, no
 * inline styles under our CSP): every button and button-like link is a .btn, and every class a
 * partial uses is defined there, except the plugin's own stripe-* hooks.
 */
describe('Stripe partials use the server stylesheet', () => {
  const p = new StripeProvider();
  const css = readFileSync(path.resolve(__dirname, '../../../../packages/server/src/public/kassa.css'), 'utf8');
  const defined = new Set([...css.matchAll(/\.([a-z][a-z0-9-]*)/g)].map((m) => m[1]));
  const rendered: Record<string, string> = {
    'pay page': render({ partial: 'stripe/payment-element', data: { publishableKey: 'pk_test_a', stripeJsUrl: 'https://js.stripe.com/v3/', intentUrl: '/i', returnUrl: '/r', orderUrl: '/o', amount: '€25.00', orderCode: 'ABC12' } }),
    pending: render(p.paymentPendingRender(ctx, { order, payment: payment('created', { intentId: 'pi_1', status: 'requires_payment_method', lastError: { code: 'x', message: 'declined' } }) })),
    control: render(p.paymentControlRender(ctx, { order, payment: payment('pending', {
      intentId: 'pi_1', status: 'requires_capture', card: { brand: 'visa', last4: '4242' }, threeDSecure: 'authenticated',
      dispute: { id: 'du_1', status: 'needs_response', dueBy: '2030-03-08T10:00:00.000Z', amount: 2500, currency: 'EUR' },
    }) })),
    checkout: render(p.paymentFormRender(ctx, { amount: 2500, currency: 'EUR' })),
  };

  const btn = /class="(?:[^"]* )?btn(?: [^"]*)?"/;
  it.each(Object.keys(rendered))('%s: every button carries class "btn"', (name) => {
    const buttons = [...(rendered[name] as string).matchAll(/<button\b[^>]*>/g)].map((m) => m[0]);
    if (name === 'pay page' || name === 'control') expect(buttons.length).toBeGreaterThan(0);
    for (const tag of buttons) expect(tag).toMatch(btn);
  });

  it('pending: the link back to the pay page is styled as a button', () => {
    expect(/<a\b[^>]*\/plugins\/stripe\/pay\/[^>]*>/.exec(rendered.pending as string)?.[0]).toMatch(btn);
  });

  it.each(Object.keys(rendered))('%s: no inline style, and every class is defined in kassa.css (or is a stripe-* hook)', (name) => {
    const html = rendered[name] as string;
    expect(html).not.toMatch(/\sstyle=/);
    const used = [...html.matchAll(/class="([^"]*)"/g)].flatMap((m) => (m[1] as string).split(/\s+/)).filter(Boolean);
    expect(used.filter((c) => !c.startsWith('stripe-') && !defined.has(c))).toEqual([]);
  });
});
