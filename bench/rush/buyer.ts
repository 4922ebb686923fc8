/**
 * One simulated buyer of the rush: what a browser does, request by request, with its own cookie
 * jar and client address (sent as X-Forwarded-For through a trusted proxy, as behind a load
 * balancer, so the per-address limits see many buyers). The card payment is what the Stripe.js
 * double does in the browser: a PaymentMethod and the confirmation, straight at the emulator with
 * the publishable key, then the return route.
 */

export type Step = 'event' | 'cart' | 'contact' | 'payment' | 'confirm' | 'place' | 'pay-page' | 'intent' | 'card' | 'return';
export const STEPS: readonly Step[] = ['event', 'cart', 'contact', 'payment', 'confirm', 'place', 'pay-page', 'intent', 'card', 'return'];

export type Outcome = 'paid' | 'sold-out' | 'abandoned' | 'failed';

export interface BuyerResult {
  outcome: Outcome;
  timings: Partial<Record<Step, number>>;
  /** When the order was placed / the return route answered (ms since the run's start). */
  placedAt?: number;
  paidAt?: number;
  error?: string;
}

export interface BuyerTarget {
  /** Server base URL this buyer talks to (the load balancer's choice). */
  base: string;
  eventPath: string;
  productId: string;
  emulatorUrl: string;
  /** Leave after the cart step (the hold then runs out). */
  abandon: boolean;
  address: string;
  email: string;
  t0: number;
}

export async function buy(t: BuyerTarget): Promise<BuyerResult> {
  const jar = new Map<string, string>();
  const timings: Partial<Record<Step, number>> = {};
  const result = (outcome: Outcome, extra: Partial<BuyerResult> = {}): BuyerResult => ({ outcome, timings, ...extra });
  const headers = (more: Record<string, string> = {}) => ({
    accept: 'text/html', 'x-forwarded-for': t.address, cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '), ...more,
  });
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1));
    }
    return res;
  };
  async function timed(step: Step, url: string, init: RequestInit = {}): Promise<Response> {
    const start = performance.now();
    const res = keep(await fetch(url, { redirect: 'manual', ...init }));
    const body = await res.arrayBuffer();
    timings[step] = performance.now() - start;
    return new Response(res.status === 204 || res.status === 304 ? null : body, { status: res.status, headers: res.headers });
  }
  const get = (step: Step, url: string) => timed(step, url, { headers: headers() });
  const post = (step: Step, url: string, fields: Record<string, string>) => timed(step, url, {
    method: 'POST', headers: headers({ 'content-type': 'application/x-www-form-urlencoded' }), body: new URLSearchParams(fields).toString(),
  });
  const abs = (loc: string | null) => (loc ? new URL(loc, t.base).toString() : '');
  const shop = t.base + t.eventPath;
  try {
    const page = await get('event', shop);
    if (page.status !== 200) return result('failed', { error: `event page ${page.status}` });
    const cart = await post('cart', `${shop}cart`, { [`qty_${t.productId}`]: '1' });
    const cartTarget = cart.headers.get('location') ?? '';
    if (cart.status !== 303 || !/checkout/.test(cartTarget)) return result('sold-out');
    if (t.abandon) return result('abandoned');
    const contact = await get('contact', `${shop}checkout/contact`);
    const csrf = hidden(await contact.text(), '_csrf');
    const c = await post('contact', `${shop}checkout/contact`, { _csrf: csrf, email: t.email });
    if (c.status !== 303) return result('failed', { error: `contact ${c.status}` });
    const p = await post('payment', `${shop}checkout/payment`, { _csrf: csrf, provider: 'stripe' });
    if (p.status !== 303) return result('failed', { error: `payment method ${p.status}: ${(await p.text()).slice(0, 200)}` });
    const confirm = await get('confirm', `${shop}checkout/confirm`);
    const token = hidden(await confirm.text(), 'token');
    const placed = await post('place', `${shop}checkout/confirm`, { _csrf: csrf, token });
    const payUrl = abs(placed.headers.get('location'));
    if (placed.status !== 303 || !payUrl.includes('/plugins/stripe/pay/')) {
      return result(placed.status === 303 ? 'sold-out' : 'failed', { error: `place ${placed.status} → ${payUrl}` });
    }
    const placedAt = performance.now() - t.t0;
    const payPage = await (await get('pay-page', payUrl)).text();
    const intentUrl = abs(attr(payPage, 'data-intent-url'));
    const returnUrl = abs(attr(payPage, 'data-return-url'));
    const publishableKey = attr(payPage, 'data-publishable-key');
    const intent = await timed('intent', intentUrl, { method: 'POST', headers: headers({ accept: 'application/json', 'content-type': 'application/json' }), body: '{}' });
    const { clientSecret } = (await intent.json()) as { clientSecret: string };
    // Stripe.js: the card becomes a PaymentMethod, then the PaymentIntent is confirmed with it.
    const cardStart = performance.now();
    const stripe = (path: string, fields: Record<string, string>) => fetch(`${t.emulatorUrl}${path}`, {
      method: 'POST', headers: { authorization: `Bearer ${publishableKey}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(),
    }).then((r) => r.json() as Promise<Record<string, unknown>>);
    const pm = await stripe('/v1/payment_methods', { type: 'card', 'card[number]': '4242424242424242', 'card[exp_month]': '12', 'card[exp_year]': '2034', 'card[cvc]': '123' });
    const intentId = clientSecret.slice(0, clientSecret.indexOf('_secret_'));
    const confirmed = await stripe(`/v1/payment_intents/${intentId}/confirm`, { client_secret: clientSecret, payment_method: String(pm.id), return_url: returnUrl });
    timings.card = performance.now() - cardStart;
    if (confirmed.status !== 'succeeded') return result('failed', { error: `intent ${String(confirmed.status)}`, placedAt });
    const back = new URL(returnUrl);
    back.searchParams.set('payment_intent', intentId);
    back.searchParams.set('payment_intent_client_secret', clientSecret);
    back.searchParams.set('redirect_status', 'succeeded');
    const ret = await get('return', back.toString());
    if (ret.status !== 303) return result('failed', { error: `return ${ret.status}`, placedAt });
    return result('paid', { placedAt, paidAt: performance.now() - t.t0 });
  } catch (err) {
    return result('failed', { error: err instanceof Error ? err.message : String(err) });
  }
}

function hidden(html: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!m) throw new Error(`no ${name} field in ${html.slice(0, 300)}`);
  return m[1]!;
}

function attr(html: string, name: string): string {
  const m = new RegExp(`${name}="([^"]*)"`).exec(html);
  if (!m) throw new Error(`no ${name} in the pay page`);
  return m[1]!.replace(/&amp;/g, '&');
}
