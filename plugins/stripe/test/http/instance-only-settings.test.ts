import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OrderPayment } from '@kassa/core/host';
import { createServerHarness, type ServerHarness } from '../support/server-harness';

/*
 * The attack: an organizer admin on a shared instance points the Stripe plugin's "Stripe.js URL"
 * at a script of its own (it would run on Kassa's origin with the page's nonce and read another
 * organizer's control panel), or the API base at a host of its own (requests carrying the
 * instance's secret key would go there). Both are instance-only: refused from the control panel,
 * ignored when planted in the table, and the pay page loads only the instance's Stripe.js, by the
 * CSP's host list and never by nonce.
 */
describe('Stripe: where code and requests go is the operator\'s decision (HTTP)', () => {
  let h: ServerHarness;
  let admin: { cookie: string; csrf: string };
  let collector: Server;
  let collectorUrl: string;
  const collected: string[] = [];
  const EVIL_JS = 'https://evil.example/steal.js';

  const settingRows = () => h.db.dataSource.query(`SELECT scope, scope_id, key, value::text AS v FROM setting WHERE namespace = 'payment.stripe' ORDER BY scope, scope_id, key`);
  const postSettings = (url: string, fields: Record<string, string>) => h.app.inject({
    method: 'POST', url, headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: admin.csrf, ...fields }).toString(),
  });
  const placeAndExecute = async () => {
    const placed = await h.deps.core.orders.placeOrder({ eventId: h.shop.event.id, email: 'b@example.org', positions: [{ productId: h.shop.product.id }], provider: 'stripe' });
    const { outcome } = await h.deps.core.payments.executePayment((placed.payment as OrderPayment).id, {});
    return (outcome as { redirectUrl: string }).redirectUrl.replace(h.baseUrl, '');
  };

  beforeAll(async () => {
    h = await createServerHarness();
    admin = await h.signIn(h.shop.organizer.id);
    // A host of the organizer's choosing: records whatever reaches it (an Authorization header would carry the key).
    collector = createServer((req, res) => { collected.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`); res.writeHead(500).end(); });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => collector.close(() => resolve()));
    await h.destroy();
  });

  it('the organizer and event forms show no Stripe.js URL or API base', async () => {
    for (const url of ['/control/settings/payment/stripe', `/control/events/${h.shop.event.id}/settings/payment/stripe`]) {
      const page = await h.app.inject({ method: 'GET', url, headers: { cookie: admin.cookie } });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('name="secretKey"');
      expect(page.body).not.toMatch(/name="(stripeJsUrl|apiBase)"/);
      expect(page.body).not.toContain(h.emulator.url);
    }
  });

  it.each([
    ['the Stripe.js URL (organizer form)', '/control/settings/payment/stripe', { stripeJsUrl: EVIL_JS }, 'stripeJsUrl'],
    ['the API base (organizer form)', '/control/settings/payment/stripe', { apiBase: 'https://evil.example' }, 'apiBase'],
    ['the Stripe.js URL (event form)', 'event', { stripeJsUrl: EVIL_JS }, 'stripeJsUrl'],
    ['both, with a reset', '/control/settings/payment/stripe', { stripeJsUrl: EVIL_JS, reset_apiBase: 'on' }, 'apiBase, stripeJsUrl'],
  ])('a forged post setting %s is refused with 400 naming the field, and nothing is stored', async (_label, url, fields, named) => {
    const before = await settingRows();
    const res = await postSettings(url === 'event' ? `/control/events/${h.shop.event.id}/settings/payment/stripe` : url, { captureMethod: 'manual', ...fields });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain(`${named} in payment.stripe is an instance-only setting`);
    expect(await settingRows()).toEqual(before);
  });

  it('values planted in the table at organizer and event level are ignored: the pay page loads the instance\'s Stripe.js by the host list, never by nonce', async () => {
    for (const [scope, id] of [['organizer', h.shop.organizer.id], ['event', h.shop.event.id]]) {
      for (const [key, value] of [['stripeJsUrl', EVIL_JS], ['apiBase', collectorUrl]]) {
        await h.db.dataSource.query(
          `INSERT INTO setting (scope, scope_id, namespace, key, value, encrypted) VALUES ($1, $2, 'payment.stripe', $3, $4::jsonb, false)`,
          [scope, id, key, JSON.stringify(value)],
        );
      }
    }
    const payPath = await placeAndExecute();
    const page = await h.app.inject({ method: 'GET', url: payPath, headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    const scripts = [...page.body.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1] as string);
    const external = scripts.filter((attrs) => /\bsrc=/.test(attrs));
    expect(external).toEqual([` src="${h.emulator.stripeJsUrl}"`]);
    expect(page.body).not.toContain('evil.example');
    const scriptSrc = /script-src ([^;]*)/.exec(String(page.headers['content-security-policy']))?.[1]?.split(' ') ?? [];
    expect(scriptSrc).toContain(new URL(h.emulator.stripeJsUrl).origin);
    expect(scriptSrc.join(' ')).not.toContain('evil.example');
    // The planted API base received nothing: the intent was created at the instance's (the emulator).
    expect(collected).toEqual([]);
  });

  it('the instance\'s secret key is never sent to an API base an organizer chose, not even through its events', async () => {
    await placeAndExecute();
    const pay = await placeAndExecute();
    // The pay page's intent endpoint and the return page call Stripe too.
    expect((await h.app.inject({ method: 'POST', url: pay.replace('/pay/', '/intent/'), headers: { 'content-type': 'application/json' }, payload: '{}' })).statusCode).toBe(200);
    expect(collected).toEqual([]);
  });

  it("an organizer's publishable key is never paired with the instance's secret key: the pair is one unit", async () => {
    const before = await settingRows();
    const res = await postSettings('/control/settings/payment/stripe', { _enabled: 'on', publishableKey: 'pk_test_organizersOwn' });
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/secretKey is required/);
    expect(await settingRows()).toEqual(before);
    // Disabled at its level, the lone publishable key may be stored, and still pairs with nothing.
    expect((await postSettings('/control/settings/payment/stripe', { publishableKey: 'pk_test_organizersOwn' })).statusCode).toBe(303);
    const resolved = await h.deps.settings.resolve({ scope: 'event', organizerId: h.shop.organizer.id, eventId: h.shop.event.id }, 'payment.stripe');
    expect(resolved).toMatchObject({ publishableKey: 'pk_test_organizersOwn', _enabled: false });
    expect(resolved).not.toHaveProperty('secretKey');
  });
});
