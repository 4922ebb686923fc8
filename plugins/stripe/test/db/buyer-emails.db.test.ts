import { randomBytes } from 'node:crypto';
import type { OrderPayment } from '@kassa/core/host';
import { createJobsRuntime, defineJobsConfig, jobIds, silentLogger, type JobsRuntime } from '@kassa/jobs';
import { handleReturn } from '../../src/routes/checkout-routes';
import { buyerConfirms, createStripeHarness, httpRequest, linkParams, paymentRow, placeStripeOrder, type StripeHarness } from '../support/stripe-harness';

/*
 * The emails a buyer and the organizer get around a Stripe payment, through the whole stack: core
 * writes the events, the real outbox relay and worker (Redis, a private prefix) deliver them, the
 * handlers store the emails. The "please complete your payment" email waits for a delayed job;
 * the delay is an hour here and a test "lets it elapse" by promoting the job.
 */
const system = { type: 'system' } as const;
const DELAY_MS = 3_600_000;
let h: StripeHarness;
let rt: JobsRuntime;

beforeAll(async () => {
  h = await createStripeHarness({ price: 2500 });
  rt = await createJobsRuntime({
    dataSource: h.db.dataSource, logger: silentLogger, clock: h.clock,
    config: defineJobsConfig({
      backend: { kind: 'redis', url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: `kt${randomBytes(5).toString('hex')}` },
      publicUrl: 'https://shop.kassa.test', mailFrom: 'Kassa Test <noreply@kassa.test>',
      retry: { attempts: 3, backoffMs: 50 },
      worker: { relayPollMs: 50, orderWaitMs: 50, lockDurationMs: 2_000, stalledIntervalMs: 1_000 },
      emails: { actionRequiredDelayMs: DELAY_MS },
    }),
  });
  await rt.start({ schedulers: false });
  const [user] = await h.db.dataSource.query(`INSERT INTO app_user (email, password_hash, is_active) VALUES ('boss@organizer.test', 'x', true) RETURNING id`);
  const [team] = await h.db.dataSource.query(`INSERT INTO team (organizer_id, name, is_admin) VALUES ($1, 'Admins', true) RETURNING id`, [h.shop.organizer.id]);
  await h.db.dataSource.query(`INSERT INTO team_member (team_id, user_id) VALUES ($1, $2)`, [team.id, user.id]);
});
afterAll(async () => {
  await rt?.stop();
  await rt?.destroyBackend();
  await h?.destroy();
});

interface Mail { template: string; recipient: string; locale: string; subject: string; text: string; html: string }

/** The order's stored emails, oldest first; Intl's no-break spaces made plain. */
async function mails(orderId: string): Promise<Mail[]> {
  const rows: Mail[] = await h.db.dataSource.query(
    `SELECT template, recipient, locale, subject, body_text AS text, body_html AS html FROM email_message WHERE order_id = $1 ORDER BY created_at, id`, [orderId]);
  return rows.map((r) => ({ ...r, text: r.text.replace(/\u00a0/g, ' '), html: r.html.replace(/\u00a0/g, ' ') }));
}
const templates = async (orderId: string) => (await mails(orderId)).map((m) => m.template);

/** Until every event of the order has been delivered by the worker. */
async function settled(orderId: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const [row] = await h.db.dataSource.query(
      `SELECT count(*)::int AS events, count(d.event_id)::int AS done FROM outbox_event e LEFT JOIN outbox_delivery d ON d.event_id = e.id AND d.state = 'done' WHERE e.order_id = $1`, [orderId]);
    if (row.events > 0 && row.events === row.done) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`events of order ${orderId} not delivered`);
}

async function actionEventId(orderId: string): Promise<string> {
  const rows: { id: string }[] = await h.db.dataSource.query(`SELECT id::text AS id FROM outbox_event WHERE order_id = $1 AND topic = 'payment.action_required'`, [orderId]);
  expect(rows).toHaveLength(1);
  return rows[0]!.id;
}

/** The delay elapses: the delayed check runs now; returns what it decided. */
async function letDelayElapse(orderId: string): Promise<string> {
  await settled(orderId);
  const id = jobIds.actionRequiredCheck(await actionEventId(orderId));
  const job = await rt.queues.maintenance.getJob(id);
  expect(await job?.getState()).toBe('delayed');
  expect(job?.opts.delay).toBe(DELAY_MS);
  await job!.promote();
  return finished(id);
}

async function finished(jobId: string): Promise<string> {
  for (let i = 0; i < 600; i++) {
    // The state first, then the job read again: a job read while active has no return value yet.
    if ((await (await rt.queues.maintenance.getJob(jobId))?.getState()) === 'completed') {
      return ((await rt.queues.maintenance.getJob(jobId))!.returnvalue as { outcome: string }).outcome;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${jobId} did not complete`);
}

/** What the buyer's browser does after Stripe.js confirmed: the return route decides from the re-fetched intent. */
async function buyerReturns(payUrl: string): Promise<void> {
  await handleReturn(httpRequest(linkParams(payUrl)), h.rt);
}

async function payWith4242(): Promise<{ orderId: string; payment: OrderPayment; payUrl: string }> {
  const placed = await placeStripeOrder(h);
  await buyerConfirms(h, placed.intentId, 'pm_card_visa');
  await buyerReturns(placed.payUrl);
  expect((await paymentRow(h, placed.payment.id)).state).toBe('confirmed');
  return placed;
}

/** Every event of the order delivered again (as after a lost acknowledgement): the ledger must keep each email single. */
async function redeliverAll(orderId: string): Promise<void> {
  const events: { id: string; topic: string }[] = await h.db.dataSource.query(`SELECT id::text AS id, topic FROM outbox_event WHERE order_id = $1 ORDER BY id`, [orderId]);
  for (const e of events) await rt.queues.events.add('deliver-event', { eventId: e.id, topic: e.topic, orderId }, { jobId: `again-${e.id}` });
  for (let i = 0; i < 600; i++) {
    const states = await Promise.all(events.map(async (e) => (await rt.queues.events.getJob(`again-${e.id}`))?.getState()));
    if (states.every((s) => s === 'completed')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('redelivery did not finish');
}

async function setEventLanguage(locale: 'en' | 'de'): Promise<void> {
  await h.db.dataSource.query(`UPDATE event SET locale = $2 WHERE id = $1`, [h.shop.event.id, locale]);
}

beforeEach(() => setEventLanguage('en'));

describe('"please complete your payment" only when the buyer left it unfinished', () => {
  it('4242 without 3-D Secure: "payment received" and no action-required email, even after the delay', async () => {
    const { orderId } = await payWith4242();
    await settled(orderId);
    expect(await letDelayElapse(orderId)).toBe('not-needed');
    expect(await templates(orderId)).toEqual(['order-placed', 'order-paid']);
    const paid = (await mails(orderId))[1]!;
    expect(paid.subject).toMatch(/^Payment received: order /);
  });

  it('3-D Secure abandoned at the challenge: exactly one email after the delay, with the pay page and the amount', async () => {
    const { orderId, payment, intentId, payUrl } = await placeStripeOrder(h);
    expect((await buyerConfirms(h, intentId, 'pm_card_threeDSecure2Required')).status).toBe('requires_action');
    await settled(orderId);
    expect(await templates(orderId)).toEqual(['order-placed']); // nothing while the buyer may still be at it
    expect(await letDelayElapse(orderId)).toBe('sent');
    const action = (await mails(orderId)).filter((m) => m.template === 'payment-action-required');
    expect(action).toHaveLength(1);
    expect(action[0]!.recipient).toBe('buyer@example.org');
    expect(action[0]!.text).toContain(payUrl);
    expect(action[0]!.text).toContain('€25.00');
    expect(action[0]!.html).toContain(`href="${payUrl}"`);
    expect((await paymentRow(h, payment.id)).state).toBe('created');

    // The same check again (a redelivered event re-queues it once its job is gone): the ledger says done.
    const jobId = jobIds.actionRequiredCheck(await actionEventId(orderId));
    await (await rt.queues.maintenance.getJob(jobId))!.remove();
    await rt.context.emails.scheduleActionRequiredCheck({ eventId: await actionEventId(orderId), organizerId: h.shop.organizer.id, orderId }, 1);
    expect(await finished(jobId)).toBe('done-before');
    await redeliverAll(orderId);
    expect(await templates(orderId)).toEqual(['order-placed', 'payment-action-required']);
  });

  it('3-D Secure completed within the delay: no action-required email', async () => {
    const { orderId, intentId, payUrl } = await placeStripeOrder(h);
    await buyerConfirms(h, intentId, 'pm_card_threeDSecure2Required');
    await fetch(`${h.emulator.url}/_emulator/payment_intents/${intentId}/authenticate`, { method: 'POST', body: new URLSearchParams({ result: 'complete' }) });
    await buyerReturns(payUrl);
    await settled(orderId);
    expect(await letDelayElapse(orderId)).toBe('not-needed');
    expect(await templates(orderId)).toEqual(['order-placed', 'order-paid']);
  });

  it('an attempt started off-session is emailed at once (nobody is in the browser)', async () => {
    const placed = await h.core.orders.placeOrder({ eventId: h.shop.event.id, email: 'saved@example.org', positions: [{ productId: h.shop.product.id }], provider: 'stripe' });
    await h.core.payments.executePayment((placed.payment as OrderPayment).id, {}, { offSession: true });
    await settled(placed.order.id);
    expect(await templates(placed.order.id)).toEqual(['order-placed', 'payment-action-required']);
    expect(await rt.queues.maintenance.getJob(jobIds.actionRequiredCheck(await actionEventId(placed.order.id)))).toBeUndefined();
  });
});

describe('"payment failed" only while the order waits for money', () => {
  it('a declined card on a pending order is emailed, with the reason', async () => {
    const { orderId, intentId, payUrl } = await placeStripeOrder(h);
    await buyerConfirms(h, intentId, 'pm_card_chargeDeclined');
    await buyerReturns(payUrl);
    await settled(orderId);
    const failed = (await mails(orderId)).filter((m) => m.template === 'payment-failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.text).toMatch(/Reason: .*declined/i);
  });

  it('no email when a second attempt fails after the order was paid', async () => {
    // A spare attempt made before the first one paid the order (a paid order takes no new ones).
    const placed = await placeStripeOrder(h);
    const spare = await h.core.payments.createPayment(placed.orderId, { provider: 'stripe' });
    await buyerConfirms(h, placed.intentId, 'pm_card_visa');
    await buyerReturns(placed.payUrl);
    expect((await h.core.payments.failPayment(spare.id, { actor: system, message: 'Your card was declined.' })).changed).toBe(true);
    await settled(placed.orderId);
    expect(await templates(placed.orderId)).toEqual(['order-placed', 'order-paid']);
  });

  it('no email when the attempt was canceled with its order and its failure is reported later', async () => {
    const { orderId, payment } = await placeStripeOrder(h);
    await h.core.orders.cancelOrder(orderId, { actor: system });
    expect((await paymentRow(h, payment.id)).state).toBe('canceled');
    expect((await h.core.payments.failPayment(payment.id, { actor: system, message: 'expired' })).changed).toBe(true);
    await settled(orderId);
    expect(await templates(orderId)).toEqual(['order-placed', 'order-canceled']);
    const canceled = (await mails(orderId))[1]!;
    expect(canceled.text).toContain('has been canceled');
    expect(canceled.text).not.toMatch(/refund/i); // nothing was paid, nothing to refund
  });
});

describe('"order canceled" to the buyer, with the refund', () => {
  it('German: canceled with an automatic refund names the amount; the refund-done email follows; each once', async () => {
    await setEventLanguage('de');
    const placed = await h.core.orders.placeOrder({ eventId: h.shop.event.id, email: 'klara@example.de', locale: 'de-AT', positions: [{ productId: h.shop.product.id }], provider: 'stripe' });
    const paymentId = (placed.payment as OrderPayment).id;
    const { outcome } = await h.core.payments.executePayment(paymentId, {});
    const intentId = String((await paymentRow(h, paymentId)).info.intentId);
    await buyerConfirms(h, intentId, 'pm_card_visa');
    await buyerReturns((outcome as { redirectUrl: string }).redirectUrl);
    const result = await h.core.orders.cancelOrder(placed.order.id, { actor: system, autoRefund: true });
    expect(result.refunds).toHaveLength(1);
    await settled(placed.order.id);
    await redeliverAll(placed.order.id);
    expect(await templates(placed.order.id)).toEqual(['order-placed', 'order-paid', 'order-canceled', 'refund-done']);
    const canceled = (await mails(placed.order.id))[2]!;
    expect(canceled.locale).toBe('de');
    expect(canceled.subject).toBe(`Bestellung ${placed.order.code} storniert: ${h.shop.event.name}`);
    expect(canceled.text).toContain('Wir erstatten Ihnen 25,00 € auf die Zahlungsart, mit der Sie bezahlt haben.');
    expect(canceled.html).toContain('<strong>25,00 €</strong>');
  });

  it('English: canceled without an automatic refund: the buyer hears the organizer will refund it, the admins get the refund request', async () => {
    const { orderId } = await payWith4242();
    await h.core.orders.cancelOrder(orderId, { actor: system });
    await settled(orderId);
    await redeliverAll(orderId);
    const all = await mails(orderId);
    expect(all.map((m) => [m.template, m.recipient])).toEqual([
      ['order-placed', 'buyer@example.org'], ['order-paid', 'buyer@example.org'],
      ['order-canceled', 'buyer@example.org'], ['refund-requested-notice', 'boss@organizer.test'],
    ]);
    expect(all[2]!.text).toContain('You will get €25.00 back; the organizer will refund it');
    expect(all[3]!.subject).toMatch(/^Order [A-Z0-9]+: a refund needs your action$/);
    expect(all[3]!.text).toContain('€25.00 is owed back to the buyer of order');
    expect(all[3]!.text).toContain(`https://shop.kassa.test/control/event/${h.shop.organizer.slug}/${h.shop.event.slug}/orders/`);
  });
});

describe('organizer notifications', () => {
  it('an overpaid order (a second attempt confirmed after the first paid it), in the event\'s language', async () => {
    await setEventLanguage('de');
    const placed = await placeStripeOrder(h);
    const spare = await h.core.payments.createPayment(placed.orderId, { provider: 'stripe' });
    await buyerConfirms(h, placed.intentId, 'pm_card_visa');
    await buyerReturns(placed.payUrl);
    await h.core.payments.confirmPayment(spare.id, { actor: system });
    await settled(placed.orderId);
    await redeliverAll(placed.orderId);
    const notices = (await mails(placed.orderId)).filter((m) => m.recipient === 'boss@organizer.test');
    expect(notices.map((m) => [m.template, m.locale])).toEqual([['order-overpaid-notice', 'de']]);
    expect(notices[0]!.text).toContain('wurde zu viel bezahlt: 25,00 € mehr als die Gesamtsumme von 25,00 €');
  });

  it('money received for a canceled order: one notice saying so (not also "overpaid")', async () => {
    const { orderId, payment } = await placeStripeOrder(h);
    await h.core.orders.cancelOrder(orderId, { actor: system });
    // The buyer's bank reports success after all: the money is kept on the canceled order.
    const result = await h.core.payments.confirmPayment(payment.id, { actor: system });
    expect(result.kind).toBe('order_unchanged');
    await settled(orderId);
    await redeliverAll(orderId);
    const notices = (await mails(orderId)).filter((m) => m.recipient === 'boss@organizer.test');
    expect(notices.map((m) => m.template)).toEqual(['payment-closed-order-notice']);
    expect(notices[0]!.text).toContain('a payment of €25.00 (stripe) was received for order');
    expect(notices[0]!.text).toContain('which is canceled.');
  });

  it('money received too late for an expired order whose event takes no late payments: German notice with the reason', async () => {
    await setEventLanguage('de');
    await h.db.dataSource.query(`UPDATE event SET payment_term_accept_late = false WHERE id = $1`, [h.shop.event.id]);
    try {
      const { orderId, payment } = await placeStripeOrder(h);
      // Expiry skips rows locked meanwhile (the worker's email insert takes a key-share lock on the
      // order); let the worker finish first so that this order is not skipped until the next run.
      await settled(orderId);
      await h.db.dataSource.query(`UPDATE kassa_order SET expires = $2 WHERE id = $1`, [orderId, new Date('2000-01-01T00:00:00Z')]);
      expect(await h.core.orders.expireOrders(h.clock.now())).toBeGreaterThanOrEqual(1);
      const result = await h.core.payments.confirmPayment(payment.id, { actor: system });
      expect(result.kind).toBe('quota_exceeded');
      await settled(orderId);
      const notices = (await mails(orderId)).filter((m) => m.recipient === 'boss@organizer.test');
      expect(notices.map((m) => [m.template, m.locale])).toEqual([['payment-closed-order-notice', 'de']]);
      expect(notices[0]!.text).toContain('die abgelaufen ist, ist eine Zahlung über 25,00 € (stripe) eingegangen.');
      expect(notices[0]!.text).toContain('Die Bestellung konnte nicht als bezahlt markiert werden: the payment term is over and late payments are not accepted');
      expect(notices[0]!.subject).toMatch(/^Zahlung für geschlossene Bestellung [A-Z0-9]+ eingegangen$/);
    } finally {
      await h.db.dataSource.query(`UPDATE event SET payment_term_accept_late = true WHERE id = $1`, [h.shop.event.id]);
    }
  });
});
