import Stripe from 'stripe';
import {
  SettingsStore, createDataSource, createKassaCore, createProviderContextFactory, organizerSettings, type DataSource,
} from '@kassa/core/host';
import { buildApp } from '@kassa/server';
import { handleWebhook, processInboxEvent, registerAccount, type StripeRuntime } from '../../src';
import { WEBHOOK_EVENTS } from '../../src/routes/control-routes';
import { createStripeHarness, httpRequest, placeStripeOrder, stripeRuntime, type StripeHarness } from '../support/stripe-harness';

/** A seeded generator, so a failing shuffle can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SECRET = 'whsec_torture0123456789';
const flows = ['paid', 'declined', '3ds-ok', '3ds-fail', 'refund-partial', 'refund-twice', 'refund-fails', 'chargeback-won', 'chargeback-lost', 'inquiry', 'abandoned'] as const;

/** The final state that must not depend on delivery: payments, refunds, orders, disputes, inbox. */
async function finalState(ds: DataSource) {
  return {
    payments: await ds.query(`SELECT id, state, amount::int AS amount FROM order_payment ORDER BY id`),
    refunds: await ds.query(`SELECT payment_id, state, amount::int AS amount, source, external_id FROM order_refund ORDER BY payment_id, external_id`),
    orders: await ds.query(`SELECT id, status FROM kassa_order ORDER BY id`),
    disputes: await ds.query(`SELECT dispute_id, status, funds_withdrawn, funds_reinstated, refund_id IS NOT NULL AS booked FROM stripe_dispute ORDER BY dispute_id`),
    inbox: await ds.query(`SELECT event_id, outcome IS NOT NULL AS processed FROM stripe_webhook_inbox ORDER BY event_id`),
  };
}

/** Copies every table of one test schema into a new one: the same rows before any delivery. */
async function cloneSchema(ds: DataSource, from: string, to: string): Promise<void> {
  await ds.query(`CREATE SCHEMA ${to}`);
  const tables: { table_name: string }[] = await ds.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'`, [from]);
  for (const { table_name: t } of tables) {
    await ds.query(`CREATE TABLE ${to}."${t}" (LIKE ${from}."${t}" INCLUDING ALL)`);
    await ds.query(`INSERT INTO ${to}."${t}" SELECT * FROM ${from}."${t}"`);
  }
}

describe('webhook torture: 1,000 deliveries over HTTP with duplicates, shuffled, 5% forged end where in-order delivery ends', () => {
  let h: StripeHarness;
  let copy: DataSource;
  let rtB: StripeRuntime;
  let appB: Awaited<ReturnType<typeof buildApp>>;
  const enqueuedB: string[] = [];
  let events: Stripe.Event[] = [];
  let account: string;

  beforeAll(async () => {
    h = await createStripeHarness({ price: 2500, webhookSecrets: [SECRET] });
    account = (await registerAccount(h.rt, organizerSettings(h.shop.organizer.id))).account.accountId;
    const control = (path: string, body: Record<string, string> = {}) =>
      fetch(`${h.emulator.url}/_emulator${path}`, { method: 'POST', body: new URLSearchParams(body) }).then((r) => r.json() as Promise<{ id: string }>);
    const confirm = (id: string, pm: string) => h.stripe.paymentIntents.confirm(id, { payment_method: pm, return_url: 'https://shop.invalid/r' }).catch((e: unknown) => {
      if (!(e instanceof Stripe.errors.StripeCardError)) throw e;
    });
    const charge = async (id: string) => String((await h.stripe.paymentIntents.retrieve(id)).latest_charge);
    // Everything happens at Stripe first; our side sees it only through the deliveries below.
    for (let i = 0; i < 66; i += 1) {
      const { intentId: pi } = await placeStripeOrder(h);
      const flow = flows[i % flows.length];
      if (flow === 'abandoned') { await h.stripe.paymentIntents.cancel(pi, { cancellation_reason: 'abandoned' }); continue; }
      if (flow === 'declined') { await confirm(pi, 'pm_card_chargeDeclined'); continue; }
      if (flow === '3ds-ok' || flow === '3ds-fail') {
        await confirm(pi, 'pm_card_threeDSecure2Required');
        await control(`/payment_intents/${pi}/authenticate`, { result: flow === '3ds-ok' ? 'complete' : 'fail' });
        continue;
      }
      await confirm(pi, flow === 'refund-fails' ? 'pm_card_refundFail' : 'pm_card_visa');
      if (flow === 'refund-partial') await h.stripe.refunds.create({ payment_intent: pi, amount: 700 });
      if (flow === 'refund-twice') { await h.stripe.refunds.create({ payment_intent: pi, amount: 1000 }); await h.stripe.refunds.create({ payment_intent: pi, amount: 1500 }); }
      if (flow === 'refund-fails') { const re = await h.stripe.refunds.create({ payment_intent: pi }); await control(`/refunds/${re.id}/fail`); }
      if (flow === 'chargeback-won' || flow === 'chargeback-lost' || flow === 'inquiry') {
        const du = await control(`/charges/${await charge(pi)}/dispute`, { kind: flow === 'inquiry' ? 'inquiry' : 'chargeback' });
        await control(`/disputes/${du.id}/advance`, { to: flow === 'chargeback-won' ? 'won' : flow === 'chargeback-lost' ? 'lost' : 'warning_closed' });
      }
    }
    const subscribed = new Set<string>(WEBHOOK_EVENTS);
    events = (await h.stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 10_000 })).filter((e) => subscribed.has(e.type));

    // The same database before any delivery, in a second schema, with its own runtime.
    const schemaB = `${h.db.schema}_b`;
    await cloneSchema(h.db.dataSource, h.db.schema, schemaB);
    copy = createDataSource({ url: h.db.url, schema: schemaB, entities: [...h.loaded.entities], migrations: [...h.loaded.migrations], poolSize: 6 });
    await copy.initialize();
    const settingsB = new SettingsStore(copy, { schemas: h.loaded.settingsSchemas, secretKey: h.settingsKey });
    const providerContext = createProviderContextFactory({ providers: h.loaded.providers, settings: settingsB, clock: h.clock, baseUrl: h.baseUrl });
    const coreB = createKassaCore({ dataSource: copy, providers: h.loaded.providers, providerContext, clock: h.clock });
    rtB = stripeRuntime({ core: coreB, dataSource: copy, settings: settingsB, clock: h.clock, baseUrl: h.baseUrl }, {
      enqueue: async (_job, payload) => { enqueuedB.push(...(Array.isArray(payload.inboxIds) ? payload.inboxIds : [payload.inboxId]).map(String)); },
    });
    // B receives its deliveries over HTTP, through the real server's plugin mounting (raw body).
    appB = await buildApp({
      dataSource: copy, clock: h.clock, core: coreB, providers: h.loaded.providers, providerContext, settings: settingsB,
      settingsSchemas: h.loaded.settingsSchemas, config: { baseUrl: h.baseUrl, sessionSecret: 'x'.repeat(64) },
      pluginRoutes: h.loaded.routes, enqueuePluginJob: async (_plugin, job, payload, o) => rtB.enqueue(job, payload, o),
    });
  }, 120_000);

  afterAll(async () => {
    await appB?.close();
    if (copy?.isInitialized) { await copy.query(`DROP SCHEMA ${h.db.schema}_b CASCADE`); await copy.destroy(); }
    await h.destroy();
  });

  it('ends in the same state either way, with no forged event stored', async () => {
    expect(events.length).toBeGreaterThan(200);
    const deliver = (rt: StripeRuntime, body: string, secret = SECRET) =>
      handleWebhook(httpRequest({ account }, { rawBody: Buffer.from(body), headers: { 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret }) } }), rt);

    // A: every event once, oldest first, processed as it arrives.
    for (const e of [...events].sort((a, b) => a.created - b.created || a.id.localeCompare(b.id))) {
      expect(await deliver(h.rt, JSON.stringify(e, null, 2))).toMatchObject({ status: 200 });
    }
    await h.runJobs();

    // B: 1,000 deliveries through the server: each event 1–4 times, 5% forged (a wrong secret, or a body altered after signing), shuffled.
    const random = rng(20301);
    const deliveries: { body: string; forged: boolean; tamper?: boolean }[] = [];
    for (const e of events) for (let n = 1 + Math.floor(random() * 4); n > 0; n -= 1) deliveries.push({ body: JSON.stringify(e, null, 2), forged: false });
    const forgedCount = Math.round(1000 * 0.05);
    while (deliveries.length < 1000 - forgedCount) deliveries.push({ body: JSON.stringify(events[Math.floor(random() * events.length)], null, 2), forged: false });
    deliveries.splice(1000 - forgedCount);
    for (let i = 0; i < forgedCount; i += 1) {
      const victim = events[Math.floor(random() * events.length)] as Stripe.Event;
      const fake = { ...victim, id: `evt_forged_${i}`, type: 'payment_intent.succeeded' };
      deliveries.push(i % 2 === 0 ? { body: JSON.stringify(fake), forged: true } : { body: JSON.stringify(victim).replace(/"status":"[a-z_]+"/, '"status":"succeeded"'), forged: true, tamper: true });
    }
    for (let i = deliveries.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [deliveries[i], deliveries[j]] = [deliveries[j] as (typeof deliveries)[number], deliveries[i] as (typeof deliveries)[number]];
    }
    expect(deliveries).toHaveLength(1000);
    let refused = 0;
    for (const d of deliveries) {
      // A tampered body is signed over the original bytes, so the signature cannot match it.
      const signed = d.tamper ? d.body.replace('"status":"succeeded"', '"status":"x"') : d.body;
      const header = Stripe.webhooks.generateTestHeaderString({ payload: signed, secret: d.forged && !d.tamper ? 'whsec_attacker' : SECRET });
      const res = await appB.inject({ method: 'POST', url: `/plugins/stripe/webhook/${account}`, headers: { 'content-type': 'application/json', 'stripe-signature': header }, payload: d.body });
      if (d.forged) { expect(res.statusCode).toBe(400); refused += 1; } else expect(res.statusCode).toBe(200);
    }
    expect(refused).toBe(forgedCount);
    // Four workers drain the queue concurrently, so events of one payment race for its lock
    // (a batch job's events taken one by one, so they race too). Rows still waiting out the
    // writer's hand-on spacing are handed on first.
    await rtB.state.inbox.drain();
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let id = enqueuedB.shift(); id !== undefined; id = enqueuedB.shift()) await processInboxEvent(rtB, id);
    }));

    const a = await finalState(h.db.dataSource);
    const b = await finalState(copy);
    expect(b).toEqual(a);
    expect(b.inbox).toHaveLength(events.length);
    expect(b.inbox.every((r: { event_id: string }) => !r.event_id.startsWith('evt_forged_'))).toBe(true);
    // The flows really happened: confirmed and failed payments, external refunds; a won chargeback
    // books nothing (its final state is all anyone sees), a lost one books its external refund.
    const states = new Set(a.payments.map((p: { state: string }) => p.state));
    expect([...states].sort()).toEqual(expect.arrayContaining(['confirmed', 'failed']));
    expect(a.refunds.filter((r: { source: string; state: string }) => r.source === 'external' && r.state === 'external').length).toBeGreaterThan(4);
    const booked = (won: boolean) => a.disputes.filter((d: { funds_reinstated: boolean; funds_withdrawn: boolean }) => d.funds_withdrawn && d.funds_reinstated === won);
    expect(booked(true).length).toBeGreaterThan(0);
    expect(booked(true).every((d: { booked: boolean }) => !d.booked)).toBe(true);
    expect(booked(false).every((d: { booked: boolean }) => d.booked)).toBe(true);
    expect(await copy.query(`SELECT 1 FROM stripe_payment_lock`)).toEqual([]);
  }, 240_000);
});
