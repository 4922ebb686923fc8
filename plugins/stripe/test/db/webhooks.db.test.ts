import Stripe from 'stripe';
import { STRIPE_API_VERSION, handleWebhook, sweepInbox } from '../../src';
import { handleCreateWebhookEndpoint } from '../../src/routes/control-routes';
import { accountSecrets, createStripeHarness, httpRequest, paymentRow, placeStripeOrder, buyerConfirms, type StripeHarness } from '../support/stripe-harness';

describe('Stripe webhooks: verified on the raw body, stored once, processed from a job', () => {
  let h: StripeHarness;
  let account: string;
  let secret: string;

  const inboxCount = async () => Number((await h.db.dataSource.query('SELECT count(*) AS n FROM stripe_webhook_inbox'))[0].n);
  const event = (id: string, type = 'payment_intent.created') => JSON.stringify({ id, object: 'event', type, api_version: STRIPE_API_VERSION, created: Math.floor(Date.now() / 1000), data: { object: { id: 'pi_unrelated', object: 'payment_intent', metadata: {} } } }, null, 2);
  const sign = (body: string, s = secret, timestamp?: number) => Stripe.webhooks.generateTestHeaderString({ payload: body, secret: s, ...(timestamp ? { timestamp } : {}) });
  const post = (body: string, header: string | undefined, acct = account) =>
    handleWebhook(httpRequest({ account: acct }, { rawBody: Buffer.from(body), headers: header ? { 'stripe-signature': header } : {} }), h.rt);

  beforeAll(async () => {
    h = await createStripeHarness();
    const created = await handleCreateWebhookEndpoint(httpRequest({}, { organizerId: h.shop.organizer.id, body: {} }), h.rt);
    expect(created).toMatchObject({ status: 201, body: { apiVersion: STRIPE_API_VERSION } });
    account = (created as { body: { account: string } }).body.account;
    secret = (await accountSecrets(h))[0] as string;
  });
  afterAll(async () => { await h.destroy(); });

  it('creates the endpoint at Stripe with our pinned API version and our URL, and stores its secret on the endpoint row (sealed)', async () => {
    const endpoints = await h.stripe.webhookEndpoints.list();
    expect(endpoints.data).toHaveLength(1);
    expect(endpoints.data[0]).toMatchObject({ api_version: STRIPE_API_VERSION, url: `${h.baseUrl}/plugins/stripe/webhook/${account}` });
    expect(endpoints.data[0]?.enabled_events).toEqual(expect.arrayContaining(['payment_intent.succeeded', 'charge.dispute.funds_withdrawn', 'refund.updated']));
    expect(secret).toMatch(/^whsec_/);
    const [row] = await h.db.dataSource.query('SELECT account_id, secret::text AS sealed FROM stripe_webhook_endpoint WHERE endpoint_id = $1', [endpoints.data[0]?.id]);
    expect(row.account_id).toBe(account);
    expect(row.sealed).not.toContain(secret); // encrypted at rest
    expect(await h.db.dataSource.query(`SELECT 1 FROM setting WHERE key = 'webhookSecrets'`)).toEqual([]);
  });

  it('stores a signed event once and enqueues it with the event id as job id; a duplicate stores nothing new', async () => {
    const body = event('evt_once');
    const before = h.enqueued.length;
    expect(await post(body, sign(body))).toMatchObject({ status: 200, body: { received: true } });
    expect(await post(body, sign(body))).toMatchObject({ status: 200, body: { duplicate: true } });
    expect(h.enqueued.slice(before)).toEqual([{ job: 'process-event', payload: { inboxId: expect.any(String) }, jobId: `stripe:${account}:evt_once` }]);
    const rows = await h.db.dataSource.query(`SELECT type, object_id, source FROM stripe_webhook_inbox WHERE event_id = 'evt_once'`);
    expect(rows).toEqual([{ type: 'payment_intent.created', object_id: 'pi_unrelated', source: 'webhook' }]);
  });

  it.each([
    ['a forged signature', (b: string) => sign(b, 'whsec_notTheSecret'), /No signatures found matching/],
    ['a stale timestamp (older than 300 s)', (b: string) => sign(b, secret, Math.floor(Date.now() / 1000) - 301), /Timestamp outside the tolerance zone/],
    ['no signature header', () => undefined, /missing Stripe-Signature/],
    ['an empty v1', () => `t=${Math.floor(Date.now() / 1000)},v1=`, /./],
    ['only a v0 decoy', (b: string) => sign(b).replace('v1=', 'v0='), /No signatures found with expected scheme/],
  ])('refuses %s with 400 and stores nothing', async (_name, header, reason) => {
    const before = await inboxCount();
    const body = event(`evt_bad_${Math.random().toString(36).slice(2)}`);
    const res = await post(body, header(body));
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'STRIPE_WEBHOOK_REFUSED', message: expect.stringMatching(reason) } } });
    expect(await inboxCount()).toBe(before);
  });

  it('refuses a body altered after signing', async () => {
    const body = event('evt_altered');
    const res = await post(body.replace('pi_unrelated', 'pi_other'), sign(body));
    expect(res).toMatchObject({ status: 400 });
    expect(await h.db.dataSource.query(`SELECT 1 FROM stripe_webhook_inbox WHERE event_id = 'evt_altered'`)).toEqual([]);
  });

  it('refuses an unknown account with 404 and stores nothing', async () => {
    const body = event('evt_unknown_acct');
    expect(await post(body, sign(body), 'acct_nobody')).toMatchObject({ status: 404, body: { error: { code: 'STRIPE_ACCOUNT_UNKNOWN' } } });
    expect(await h.db.dataSource.query(`SELECT 1 FROM stripe_webhook_inbox WHERE event_id = 'evt_unknown_acct'`)).toEqual([]);
  });

  it('accepts both secrets during a rotation (a second endpoint secret is added, the first kept)', async () => {
    const again = await handleCreateWebhookEndpoint(httpRequest({}, { organizerId: h.shop.organizer.id, body: {} }), h.rt);
    expect(again).toMatchObject({ status: 201 });
    const secrets = await accountSecrets(h);
    expect(secrets).toHaveLength(2);
    for (const [i, s] of secrets.entries()) {
      const body = event(`evt_rotation_${i}`);
      expect(await post(body, sign(body, s))).toMatchObject({ status: 200 });
    }
    // Keep one endpoint for the rest of the file, so every event arrives once per delivery.
    const list = await h.stripe.webhookEndpoints.list();
    expect(list.data).toHaveLength(2);
    await h.stripe.webhookEndpoints.del(list.data[1]?.id as string);
  });

  it('an event of an intent that is not ours is marked processed as "not ours" and changes nothing', async () => {
    const pi = await h.stripe.paymentIntents.create({ amount: 1000, currency: 'eur', automatic_payment_methods: { enabled: true, allow_redirects: 'never' } });
    await h.stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' });
    await h.emulator.flushWebhooks();
    const outcomes = await h.runJobs();
    expect(outcomes).toEqual(expect.arrayContaining([`not ours: ${pi.id}`]));
  });

  it('a payment confirmed by webhook alone (the buyer never came back), delivered by the emulator over HTTP', async () => {
    const { payment, intentId } = await placeStripeOrder(h);
    await buyerConfirms(h, intentId, 'pm_card_visa');
    await h.emulator.flushWebhooks();
    await h.runJobs();
    expect((await paymentRow(h, payment.id)).state).toBe('confirmed');
    const refs = await h.db.dataSource.query('SELECT kind FROM stripe_object_ref WHERE payment_id = $1 ORDER BY kind', [payment.id]);
    expect(refs.map((r: { kind: string }) => r.kind)).toEqual(['charge', 'payment_intent']);
    const processed = await h.db.dataSource.query(`SELECT count(*)::int AS n FROM stripe_webhook_inbox WHERE intent_id = $1 AND processed_at IS NOT NULL`, [intentId]);
    expect(processed[0].n).toBeGreaterThanOrEqual(2);
  });

  it('the sweep processes a stored event whose enqueue was lost', async () => {
    const body = event('evt_lost_enqueue');
    const failing = { ...h.rt, enqueue: async () => { throw new Error('queue down'); } };
    const res = await handleWebhook(httpRequest({ account }, { rawBody: Buffer.from(body), headers: { 'stripe-signature': sign(body) } }), failing);
    expect(res).toMatchObject({ status: 200 });
    await h.db.dataSource.query(`UPDATE stripe_webhook_inbox SET received_at = now() - interval '5 minutes' WHERE event_id = 'evt_lost_enqueue'`);
    const { sweepInboxJob } = await import('../../src/jobs/stripe-jobs');
    await sweepInboxJob.processor({}, { ...h.rt, attempt: 1 });
    const [row] = await h.db.dataSource.query(`SELECT processed_at IS NOT NULL AS done, outcome FROM stripe_webhook_inbox WHERE event_id = 'evt_lost_enqueue'`);
    expect(row).toEqual({ done: true, outcome: expect.stringMatching(/^not ours/) });
  });

  it("the sweep processes one object's events in order and other objects' events beside them, as a batch job does", async () => {
    // Six events of one payment intent, then one of another, all stale. One at a time, the last
    // stored would be the last processed; in lanes it does not wait for the first intent's six.
    await h.db.dataSource.query(
      `INSERT INTO stripe_webhook_inbox (account, event_id, type, object_id, object_type, intent_id, source, payload, received_at)
       SELECT $1, e.id, 'payment_intent.created', e.pi, 'payment_intent', e.pi, 'webhook',
              jsonb_set($2::jsonb, '{id}', to_jsonb(e.id)), now() - interval '10 minutes' + e.n * interval '1 ms'
         FROM (SELECT 'evt_lane_a' || g AS id, 'pi_lane_a' AS pi, g AS n FROM generate_series(1, 6) g
               UNION ALL SELECT 'evt_lane_b1', 'pi_lane_b', 7) e`,
      [account, event('evt_lane_template')],
    );
    await sweepInbox(h.rt);
    const rows = await h.db.dataSource.query(
      `SELECT event_id, outcome FROM stripe_webhook_inbox WHERE event_id LIKE 'evt_lane_%' ORDER BY processed_at, event_id`,
    ) as { event_id: string; outcome: string }[];
    expect(rows).toHaveLength(7);
    expect(rows.every((r) => /^not ours/.test(r.outcome))).toBe(true);
    const order = rows.map((r) => r.event_id);
    expect(order.filter((id) => id.startsWith('evt_lane_a'))).toEqual(['evt_lane_a1', 'evt_lane_a2', 'evt_lane_a3', 'evt_lane_a4', 'evt_lane_a5', 'evt_lane_a6']);
    expect(order.indexOf('evt_lane_b1')).toBeLessThan(order.indexOf('evt_lane_a6'));
  });

  it('after a long queue outage the sweep works through a backlog larger than a page, oldest first, within its budget', async () => {
    // 250 events stored ten minutes ago whose jobs never came (the queue was away).
    await h.db.dataSource.query(
      `INSERT INTO stripe_webhook_inbox (account, event_id, type, object_id, object_type, intent_id, source, payload, received_at)
       SELECT $1, 'evt_backlog_' || lpad(g::text, 3, '0'), 'payment_intent.created', 'pi_unrelated', 'payment_intent', 'pi_unrelated', 'webhook',
              jsonb_set($2::jsonb, '{id}', to_jsonb('evt_backlog_' || lpad(g::text, 3, '0'))), now() - interval '10 minutes' + g * interval '1 ms'
         FROM generate_series(1, 250) g`,
      [account, event('evt_backlog_template')],
    );
    const done = async () => (await h.db.dataSource.query(
      `SELECT event_id FROM stripe_webhook_inbox WHERE event_id LIKE 'evt_backlog_%' AND processed_at IS NOT NULL ORDER BY event_id`,
    ) as { event_id: string }[]).map((r) => r.event_id);
    // A spent budget still finishes the page it started: the oldest 100.
    await sweepInbox(h.rt, 0);
    const first = await done();
    expect(first).toHaveLength(100);
    expect(first.at(-1)).toBe('evt_backlog_100');
    // One sweep with its budget takes the rest, page after page.
    await sweepInbox(h.rt);
    expect(await done()).toHaveLength(250);
  });
});
