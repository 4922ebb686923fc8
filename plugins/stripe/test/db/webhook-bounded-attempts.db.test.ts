import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { SettingsSchemas, SettingsStore, globalSettings, organizerSettings } from '@kassa/core/host';
import {
  MAX_MISSING_OBJECT_ATTEMPTS, STRIPE_API_VERSION, STRIPE_NAMESPACE, handleWebhook, moveLegacySecrets, processInboxEvent, registerAccount,
} from '../../src';
import { handleReturn } from '../../src/routes/checkout-routes';
import { sweepInboxJob } from '../../src/jobs/stripe-jobs';
import { staleInboxIds } from '../../src/webhooks/event-processor';
import {
  buyerConfirms, createStripeHarness, httpRequest, linkParams, paymentRow, placeStripeOrder, type StripeHarness,
} from '../support/stripe-harness';

const SECRET = 'whsec_boundedAttempts0123';

/** A pass-through HTTP proxy in front of the emulator that counts the requests per path: how often we called Stripe. */
async function countingProxy(target: string): Promise<{ url: string; calls: (path: string) => number; close: () => Promise<void> }> {
  const seen: string[] = [];
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    seen.push(String(req.url).split('?')[0] as string);
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: (path) => seen.filter((p) => p === path).length,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('Stripe events whose object does not exist end after bounded attempts', () => {
  let h: StripeHarness;
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  let account: string;

  const deliver = async (payload: Record<string, unknown>) => {
    const body = JSON.stringify({ object: 'event', api_version: STRIPE_API_VERSION, created: Math.floor(Date.now() / 1000), ...payload });
    const res = await handleWebhook(httpRequest({ account }, { rawBody: Buffer.from(body), headers: { 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET }) } }), h.rt);
    expect(res).toMatchObject({ status: 200 });
    return String(h.enqueued.at(-1)?.payload.inboxId);
  };
  const inboxRow = async (id: string) => (await h.db.dataSource.query('SELECT attempts, failed_at, processed_at, outcome FROM stripe_webhook_inbox WHERE id = $1', [id]))[0];

  beforeAll(async () => {
    h = await createStripeHarness({ webhookSecrets: [SECRET] });
    account = (await h.db.dataSource.query('SELECT account_id FROM stripe_account'))[0].account_id;
    // Every call the plugin makes to Stripe goes through the counter (the instance's apiBase).
    proxy = await countingProxy(h.emulator.url);
    await h.settings.set(globalSettings, STRIPE_NAMESPACE, { apiBase: proxy.url });
  });
  afterAll(async () => {
    await proxy.close();
    await h.destroy();
  });

  it(`a dispute Stripe does not know is fetched ${MAX_MISSING_OBJECT_ATTEMPTS} times, then the event ends as failed with the reason, and nothing calls Stripe for it again`, async () => {
    const { payment, intentId, payUrl } = await placeStripeOrder(h);
    await buyerConfirms(h, intentId, 'pm_card_visa');
    await handleReturn(httpRequest(linkParams(payUrl)), h.rt);
    expect((await paymentRow(h, payment.id)).state).toBe('confirmed');

    const inboxId = await deliver({ id: 'evt_missing_dispute', type: 'charge.dispute.created', data: { object: { id: 'du_doesNotExist', object: 'dispute', payment_intent: intentId } } });
    for (let i = 1; i < MAX_MISSING_OBJECT_ATTEMPTS; i++) {
      await expect(processInboxEvent(h.rt, inboxId)).rejects.toThrow(/dispute/);
      expect(await inboxRow(inboxId)).toMatchObject({ attempts: i, failed_at: null, processed_at: null });
    }
    await expect(processInboxEvent(h.rt, inboxId)).resolves.toMatch(/^failed: /);
    const ended = await inboxRow(inboxId);
    expect(ended).toMatchObject({ attempts: MAX_MISSING_OBJECT_ATTEMPTS, processed_at: null, failed_at: expect.any(Date) });
    expect(ended.outcome).toMatch(new RegExp(`^failed \\(the object does not exist for this account\\) after ${MAX_MISSING_OBJECT_ATTEMPTS} attempts: .*du_doesNotExist`));
    expect(proxy.calls('/v1/disputes/du_doesNotExist')).toBe(MAX_MISSING_OBJECT_ATTEMPTS);

    // The job running again, and the sweep every minute: no further call to Stripe.
    await expect(processInboxEvent(h.rt, inboxId)).resolves.toBe(ended.outcome);
    expect(await staleInboxIds(h.rt, 0)).not.toContain(inboxId);
    await sweepInboxJob.processor({}, { ...h.rt, attempt: 1 });
    expect(proxy.calls('/v1/disputes/du_doesNotExist')).toBe(MAX_MISSING_OBJECT_ATTEMPTS);
    expect((await paymentRow(h, payment.id)).state).toBe('confirmed');
  });

  it("an event naming another account's intent is not ours at once, without a call to Stripe", async () => {
    const { payment } = await placeStripeOrder(h);
    await h.db.dataSource.query(`INSERT INTO stripe_object_ref (object_id, kind, account, payment_id) VALUES ('pi_ofAnotherAccount', 'payment_intent', 'acct_another', $1)`, [payment.id]);
    const inboxId = await deliver({ id: 'evt_foreign_intent', type: 'payment_intent.succeeded', data: { object: { id: 'pi_ofAnotherAccount', object: 'payment_intent' } } });
    await expect(processInboxEvent(h.rt, inboxId)).resolves.toBe('not ours: pi_ofAnotherAccount belongs to another account');
    expect(proxy.calls('/v1/payment_intents/pi_ofAnotherAccount')).toBe(0);
    expect((await paymentRow(h, payment.id)).state).toBe('created');
  });
});

describe('webhook secrets of older versions (one list per settings level) move to endpoint rows of their own level\'s account only', () => {
  let h: StripeHarness;
  let own: string;
  const OLD_OWN = ['whsec_legacyOwnFirst', 'whsec_legacyOwnSecond'];
  const OLD_GLOBAL = 'whsec_legacyGlobalNoAccount';

  const post = (account: string, secret: string, id: string) => {
    const body = JSON.stringify({ id, object: 'event', type: 'payment_intent.created', created: 1, data: { object: { id: 'pi_x', object: 'payment_intent' } } });
    return handleWebhook(httpRequest({ account }, { rawBody: Buffer.from(body), headers: { 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret }) } }), h.rt);
  };

  beforeAll(async () => {
    h = await createStripeHarness();
    own = (await registerAccount(h.rt, organizerSettings(h.shop.organizer.id))).account.accountId;
    // What the previous version wrote: a secret list in the settings, encrypted as settings are.
    const oldSchemas = new SettingsSchemas();
    oldSchemas.register({ name: STRIPE_NAMESPACE, schema: { type: 'object', properties: { webhookSecrets: { type: 'array', items: { type: 'string' }, 'x-secret': true } }, additionalProperties: false } });
    const oldStore = new SettingsStore(h.db.dataSource, { schemas: oldSchemas, secretKey: h.settingsKey });
    await oldStore.set(organizerSettings(h.shop.organizer.id), STRIPE_NAMESPACE, { webhookSecrets: OLD_OWN });
    await oldStore.set(globalSettings, STRIPE_NAMESPACE, { webhookSecrets: [OLD_GLOBAL] });
  });
  afterAll(async () => { await h.destroy(); });

  it('at the first verification: the organizer level\'s secrets verify its own account, the global one (no global account) none, and the settings rows are gone', async () => {
    expect(await post(own, OLD_OWN[0]!, 'evt_legacy_1')).toMatchObject({ status: 200 });
    expect(await post(own, OLD_OWN[1]!, 'evt_legacy_2')).toMatchObject({ status: 200 });
    expect(await post(own, OLD_GLOBAL, 'evt_legacy_global')).toMatchObject({ status: 400, body: { error: { code: 'STRIPE_WEBHOOK_REFUSED' } } });
    expect(await h.db.dataSource.query(`SELECT 1 FROM setting WHERE key = 'webhookSecrets'`)).toEqual([]);
    expect(await h.db.dataSource.query(`SELECT account_id, scope FROM stripe_webhook_endpoint WHERE secret IS NOT NULL`)).toEqual([
      { account_id: own, scope: 'organizer' }, { account_id: own, scope: 'organizer' },
    ]);
    // Nothing is left to move: a second run changes nothing.
    expect(await moveLegacySecrets(h.rt)).toEqual({ moved: 0, dropped: 0 });
  });
});
