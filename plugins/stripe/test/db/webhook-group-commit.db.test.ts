import Stripe from 'stripe';
import { STRIPE_API_VERSION, handleWebhook, storeEvent } from '../../src';
import { handleCreateWebhookEndpoint } from '../../src/routes/control-routes';
import { InboxWriter, type StoredEvent } from '../../src/webhooks/inbox-writer';
import { accountSecrets, createStripeHarness, httpRequest, type StripeHarness } from '../support/stripe-harness';

// The intake's group commit: concurrent requests share one INSERT (one transaction, one commit),
// each is answered only once its row is committed, and one bad row fails only its own request.
describe('Stripe webhook intake: group commit', () => {
  let h: StripeHarness;
  let account: string;
  let secret: string;

  const event = (id: string, extra = '') => JSON.stringify({ id, object: 'event', type: 'payment_intent.created', api_version: STRIPE_API_VERSION, created: Math.floor(Date.now() / 1000), data: { object: { id: `pi_${id}`, object: 'payment_intent', description: `x${extra}`, metadata: {} } } }, null, 2);
  const post = (body: string) =>
    handleWebhook(httpRequest({ account }, { rawBody: Buffer.from(body), headers: { 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret }) } }), h.rt);
  const stored = async (prefix: string) =>
    (await h.db.dataSource.query(`SELECT id, event_id, xmin::text AS tx FROM stripe_webhook_inbox WHERE event_id LIKE $1 ORDER BY event_id`, [`${prefix}%`])) as { id: string; event_id: string; tx: string }[];

  beforeAll(async () => {
    h = await createStripeHarness();
    const created = await handleCreateWebhookEndpoint(httpRequest({}, { organizerId: h.shop.organizer.id, body: {} }), h.rt);
    account = (created as { body: { account: string } }).body.account;
    secret = (await accountSecrets(h))[0] as string;
  });
  afterAll(async () => { await h.destroy(); });

  it('stores concurrent events in one transaction, answers each after it, and a duplicate within the batch stores nothing', async () => {
    // Warm the secret cache so that every request below reaches the insert in the same turn.
    expect(await post(event('evt_gc_warm'))).toMatchObject({ status: 200 });
    const before = h.enqueued.length;
    const bodies = Array.from({ length: 12 }, (_, i) => event(`evt_gc_${String(i).padStart(2, '0')}`));
    const answers = await Promise.all([...bodies, bodies[3]!].map(post));

    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(answers.filter((a) => 'body' in a && (a.body as { duplicate?: boolean }).duplicate === true)).toHaveLength(1);
    const rows = await stored('evt_gc_0').then(async (a) => [...a, ...(await stored('evt_gc_1'))]);
    expect(rows.map((r) => r.event_id)).toEqual(bodies.map((b) => (JSON.parse(b) as { id: string }).id));
    // One xmin: the rows were written by one statement in one transaction, i.e. one commit.
    expect(new Set(rows.map((r) => r.tx)).size).toBe(1);
    // The statement's new rows are enqueued as one job, in insert order; the duplicate is not in it.
    // (They came within the hand-on spacing of the warm-up's job, so they wait for it; drain hands them on now.)
    await h.rt.state.inbox.drain();
    expect(h.enqueued.slice(before)).toEqual([{
      job: 'process-events', payload: { inboxIds: rows.map((r) => r.id) }, jobId: `stripe:batch:${rows[0]!.id}:${rows.at(-1)!.id}:12`,
    }]);
  });

  it('rows that keep coming within the hand-on spacing leave together in one job; drain hands them on at once', async () => {
    // A spacing far longer than the test, so that nothing but drain ends the wait.
    const writer = new InboxWriter(h.rt.db, 60_000);
    const calls: string[][] = [];
    const handler = async (rows: StoredEvent[]) => { calls.push(rows.map((r) => r.eventId)); };
    const row = (id: string) => ({
      account, eventId: id, type: 'payment_intent.created', objectId: `pi_${id}`, objectType: 'payment_intent', intentId: `pi_${id}`, source: 'webhook' as const, payload: event(id),
    });
    // An idle writer hands a row on at once.
    await writer.store(row('evt_sp_1'), handler);
    expect(calls).toEqual([['evt_sp_1']]);
    // Rows of two more statements within the spacing wait for one call together.
    await Promise.all([writer.store(row('evt_sp_2'), handler), writer.store(row('evt_sp_3'), handler)]);
    await writer.store(row('evt_sp_4'), handler);
    expect(calls).toHaveLength(1);
    await writer.drain();
    expect(calls).toEqual([['evt_sp_1'], ['evt_sp_2', 'evt_sp_3', 'evt_sp_4']]);
  });

  it('a row PostgreSQL refuses fails only its own request; the others of its batch are stored', async () => {
    expect(await post(event('evt_gp_warm'))).toMatchObject({ status: 200 });
    // Valid JSON that jsonb cannot store (\u0000). The webhook route refuses such an event before
    // storing it (webhook-input test); here it goes straight to the writer, as a polled event would.
    const poisoned = event('evt_gp_bad', '\u0000');
    const good = ['evt_gp_1', 'evt_gp_2', 'evt_gp_3'].map((id) => event(id));
    const storePoisoned = () => storeEvent(h.rt, account, JSON.parse(poisoned), 'poll', poisoned).then(() => ({ status: 200 }));
    const results = await Promise.allSettled([post(good[0]!), storePoisoned(), post(good[1]!), post(good[2]!)]);

    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<{ status: number }>).value.status)).toEqual([200, 200, 200]);
    expect((await stored('evt_gp_')).map((r) => r.event_id)).toEqual(['evt_gp_1', 'evt_gp_2', 'evt_gp_3', 'evt_gp_warm']);
  });
});
