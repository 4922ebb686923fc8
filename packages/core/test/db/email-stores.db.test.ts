import { randomUUID } from 'node:crypto';
import type { Order } from '../../src/host';
import {
  insertEmailMessage, loadOutgoingEmail, markEmailSent, recordEmailError, unsentSmtpEmailsBefore, unsentSmtpEmailsOfEvent,
  type NewEmailMessage,
} from '../../src/persistence/email-message.store';
import { organizersOfEmails, organizersOfOrders, organizersOfOutboxEvents } from '../../src/persistence/job-scope.store';
import { loadOrderMailRow, loadPaymentAndOrderState, ordersDueForReminder } from '../../src/persistence/mail-read.store';
import { admin, createCoreHarness, type CoreHarness } from './core-harness';

/*
 * The email and mail-read stores the jobs package calls: one email per dedup key, what is still to
 * be sent, the reminder query (asked of the order machine's `awaitingPayment` set), and the
 * organizer a job concerns.
 */
let h: CoreHarness;
const day = 86_400_000;

beforeAll(async () => {
  h = await createCoreHarness();
});
afterAll(async () => {
  await h.destroy();
});

const draft = (over: Partial<NewEmailMessage> = {}): NewEmailMessage => ({
  dedupKey: `test:${randomUUID()}`, organizerId: null, orderId: null, causeEventId: null, template: 'order-paid', locale: 'en',
  recipient: 'buyer@example.org', subject: 'Paid', bodyText: 'text', bodyHtml: '<p>html</p>', messageId: `<${randomUUID()}@kassa.test>`,
  transport: 'smtp', ...over,
});

describe('email messages', () => {
  it('stores one email per dedup key: writing it again returns null and stores nothing', async () => {
    const d = draft();
    const id = await h.ds.transaction((tx) => insertEmailMessage(tx, d));
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await h.ds.transaction((tx) => insertEmailMessage(tx, { ...d, messageId: '<other@kassa.test>' }))).toBeNull();
    expect(await h.ds.query('SELECT count(*)::int AS n FROM email_message WHERE dedup_key = $1', [d.dedupKey])).toEqual([{ n: 1 }]);
  });

  it('lists the unsent SMTP emails of an event oldest first, leaving out sent and stored-only ones', async () => {
    const first = (await insertEmailMessage(h.ds, draft({ causeEventId: '7001' })))!;
    const sent = (await insertEmailMessage(h.ds, draft({ causeEventId: '7001' })))!;
    await insertEmailMessage(h.ds, draft({ causeEventId: '7001', transport: 'stored' }));
    const second = (await insertEmailMessage(h.ds, draft({ causeEventId: '7001' })))!;
    await insertEmailMessage(h.ds, draft({ causeEventId: '7002' }));
    await markEmailSent(h.ds, sent, new Date('2030-01-01T00:00:00Z'));
    expect(await unsentSmtpEmailsOfEvent(h.ds, '7001')).toEqual([first, second]);
    expect(await unsentSmtpEmailsBefore(h.ds, new Date(Date.now() + 60_000), 1000)).toEqual(expect.arrayContaining([first, second]));
    expect(await unsentSmtpEmailsBefore(h.ds, new Date(Date.now() + 60_000), 1000)).not.toContain(sent);
    expect(await unsentSmtpEmailsBefore(h.ds, new Date('2000-01-01'), 1000)).toEqual([]);
  });

  it('keeps the last sending error, and marks an email sent once (clearing the error)', async () => {
    const d = draft();
    const id = (await insertEmailMessage(h.ds, d))!;
    await recordEmailError(h.ds, id, 'connection refused');
    expect(await h.ds.query('SELECT last_error FROM email_message WHERE id = $1', [id])).toEqual([{ last_error: 'connection refused' }]);
    await markEmailSent(h.ds, id, new Date('2030-01-01T00:00:00Z'));
    await markEmailSent(h.ds, id, new Date('2030-02-01T00:00:00Z'));
    expect(await loadOutgoingEmail(h.ds, id)).toEqual({
      recipient: d.recipient, subject: d.subject, bodyText: d.bodyText, bodyHtml: d.bodyHtml, messageId: d.messageId, sentAt: new Date('2030-01-01T00:00:00Z'),
    });
    expect(await h.ds.query('SELECT last_error FROM email_message WHERE id = $1', [id])).toEqual([{ last_error: null }]);
    expect(await loadOutgoingEmail(h.ds, randomUUID())).toBeNull();
  });
});

describe('mail reads', () => {
  let shop: Awaited<ReturnType<CoreHarness['shop']>>;
  beforeAll(async () => {
    shop = await h.shop();
  });

  /** A pending order placed `ageMs` ago that expires in `expiresInMs`. */
  async function pendingOrder(ageMs: number, expiresInMs: number): Promise<{ order: Order; paymentId: string }> {
    const placed = await h.order(shop);
    const now = h.clock.now().getTime();
    await h.ds.query('UPDATE kassa_order SET created_at = $2, expires = $3 WHERE id = $1', [placed.order.id, new Date(now - ageMs), new Date(now + expiresInMs)]);
    return placed;
  }

  it('finds the orders awaiting payment that are due a reminder, soonest deadline first, and none reminded before', async () => {
    const due = await pendingOrder(3 * day, day);
    const sooner = await pendingOrder(3 * day, day / 2);
    const fresh = await pendingOrder(3_600_000, day);
    const later = await pendingOrder(3 * day, 10 * day);
    const noAddress = await pendingOrder(3 * day, day);
    await h.ds.query('UPDATE kassa_order SET email = NULL WHERE id = $1', [noAddress.order.id]);
    const paid = await pendingOrder(3 * day, day);
    await h.core.payments.confirmPayment(paid.paymentId, { actor: admin });
    const reminded = await pendingOrder(3 * day, day);
    await insertEmailMessage(h.ds, draft({ dedupKey: `payment-reminder:${reminded.order.id}` }));

    const now = h.clock.now();
    const found = await ordersDueForReminder(h.ds, {
      now, expiringBy: new Date(now.getTime() + 2 * day), placedBefore: new Date(now.getTime() - day), dedupKeyPrefix: 'payment-reminder:', limit: 100,
    });
    expect(found).toEqual([sooner.order.id, due.order.id]);
    expect(found).not.toContain(fresh.order.id);
    expect(found).not.toContain(later.order.id);
    const one = await ordersDueForReminder(h.ds, {
      now, expiringBy: new Date(now.getTime() + 2 * day), placedBefore: new Date(now.getTime() - day), dedupKeyPrefix: 'payment-reminder:', limit: 1,
    });
    expect(one).toEqual([sooner.order.id]);
  });

  it('reads the order with its event and organizer, and a payment\'s state with its order\'s status', async () => {
    const { order, paymentId } = await pendingOrder(0, day);
    const row = await loadOrderMailRow(h.ds, order.id);
    expect(row).toMatchObject({
      id: order.id, organizerId: order.organizerId, code: order.code, secret: order.secret, email: 'buyer@example.org',
      status: order.status, eventSlug: shop.event.slug, organizerSlug: shop.organizer.slug,
    });
    expect(await loadPaymentAndOrderState(h.ds, paymentId, order.id)).toEqual({ paymentState: expect.any(String), orderStatus: order.status });
    // A payment of another order is not this order's.
    const other = await pendingOrder(0, day);
    expect(await loadPaymentAndOrderState(h.ds, paymentId, other.order.id)).toBeNull();
    expect(await loadOrderMailRow(h.ds, randomUUID())).toBeNull();
  });

  it('names the organizer of emails, outbox events (theirs, else their order\'s) and orders', async () => {
    const { order } = await pendingOrder(0, day);
    const email = (await insertEmailMessage(h.ds, draft({ organizerId: order.organizerId })))!;
    const instanceEmail = (await insertEmailMessage(h.ds, draft()))!;
    const [viaOrder] = await h.ds.query(`INSERT INTO outbox_event (topic, order_id) VALUES ('t', $1) RETURNING id::text AS id`, [order.id]);
    const [instance] = await h.ds.query(`INSERT INTO outbox_event (topic) VALUES ('t') RETURNING id::text AS id`);
    expect(await organizersOfEmails(h.ds, [email, instanceEmail, randomUUID()])).toEqual(new Map([[email, order.organizerId], [instanceEmail, null]]));
    expect(await organizersOfOutboxEvents(h.ds, [viaOrder.id, instance.id, '999999'])).toEqual(new Map([[viaOrder.id, order.organizerId], [instance.id, null]]));
    expect(await organizersOfOrders(h.ds, [order.id, randomUUID()])).toEqual(new Map([[order.id, order.organizerId]]));
    expect(await organizersOfOrders(h.ds, [])).toEqual(new Map());
  });
});
