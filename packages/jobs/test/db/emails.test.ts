import { EmailMessage } from '@kassa/core/host';
import { getStoredEmail, listStoredEmails } from '../../src/emails/stored-emails';
import { count, createTestDatabase, isolatedBackend, RuntimeTracker, testConfig, waitFor, type TestDatabase } from '../support/harness';
import { addAdmin, addPayment, addRefund, createOrderFixture, emit } from '../support/order-fixture';
import { SmtpSink } from '../support/smtp-sink';

let db: TestDatabase;
const tracker = new RuntimeTracker();
const smtp = new SmtpSink();

beforeAll(async () => {
  db = await createTestDatabase();
  await smtp.start();
});
afterEach(async () => {
  await tracker.cleanup();
  smtp.received.length = 0;
});
afterAll(async () => {
  await smtp.stop();
  await db.destroy();
});

const emails = () => db.dataSource.getRepository(EmailMessage);
const delivered = (orderId: string) =>
  count(db.dataSource, `SELECT count(*) n FROM outbox_delivery d JOIN outbox_event e ON e.id = d.event_id WHERE e.order_id = $1 AND d.state = 'done'`, [orderId]);

describe('emails over SMTP (a real SMTP server on loopback)', () => {
  it('sends the buyer one email per event, with the link to complete a payment that needs action', async () => {
    const rt = await tracker.create({ dataSource: db.dataSource, config: testConfig(isolatedBackend('redis', db.url), { smtpUrl: smtp.url }) });
    const o = await createOrderFixture(db.dataSource, { email: 'anna@example.com', locale: 'en' });
    const payment = await addPayment(db.dataSource, o, 4250, 'pending');
    await emit(db.dataSource, o, 'order.placed', { total: 4250, currency: 'EUR' });
    // Off-session: nobody is in the browser, so it is emailed at once (on-session ones wait; see buyer-emails.db.test.ts in the Stripe plugin).
    await emit(db.dataSource, o, 'payment.action_required', { paymentId: payment, provider: 'stripe', redirectUrl: 'https://pay.example/3ds?session=abc&x=1', offSession: true });
    await emit(db.dataSource, o, 'payment.failed', { paymentId: payment, provider: 'stripe', message: 'Your card was declined.' });
    await emit(db.dataSource, o, 'order.paid', { total: 4250, currency: 'EUR' });
    await rt.start({ schedulers: false });
    await waitFor('4 emails at the SMTP server', async () => smtp.received.length >= 4);
    await waitFor('4 emails marked sent', async () => (await count(db.dataSource, `SELECT count(*) n FROM email_message WHERE sent_at IS NOT NULL`)) === 4);

    const subjects = [
      `Your order ${o.code}: Summer Fest`,
      `Please complete your payment for order ${o.code}`,
      `Payment for order ${o.code} failed`,
      `Payment received: order ${o.code}`,
    ];
    // In order per order: the emails are written in the order the events happened. Four send jobs
    // run at once, so the SMTP server may receive them in any order.
    const written = await emails().find({ where: { orderId: o.orderId }, order: { createdAt: 'ASC', id: 'ASC' } });
    expect(written.map((r) => r.subject)).toEqual(subjects);
    expect(smtp.received.map((m) => m.header('Subject')).sort()).toEqual([...subjects].sort());
    for (const m of smtp.received) {
      expect(m.to).toEqual(['anna@example.com']);
      expect(m.from).toBe('noreply@kassa.test');
    }
    const orderLink = `https://shop.kassa.test/${o.organizerSlug}/${o.eventSlug}/order/${o.code}/${o.secret}/`;
    const bySubject = (i: number) => smtp.received.find((m) => m.header('Subject') === subjects[i])!;
    const [placed, action, failed] = [bySubject(0), bySubject(1), bySubject(2)];
    expect(placed.raw).toContain('Total: €42.50');
    expect(placed.raw).toContain(orderLink);
    expect(action.raw).toContain('https://pay.example/3ds?session=abc&x=1'); // plain-text part
    expect(action.raw).toContain('href="https://pay.example/3ds?session=abc&amp;x=1"'); // HTML part, escaped
    expect(failed.raw).toContain('Reason: Your card was declined.');

    // The stored rows carry the Message-ID the server received.
    const rows = await emails().find({ where: { orderId: o.orderId }, order: { createdAt: 'ASC' } });
    expect(rows.map((r) => r.messageId).sort()).toEqual(smtp.received.map((m) => m.header('Message-ID')).sort());
    expect(rows.every((r) => r.transport === 'smtp' && r.sentAt !== null)).toBe(true);
  });

  it('retries a refused send and delivers it once', async () => {
    const rt = await tracker.create({ dataSource: db.dataSource, config: testConfig(isolatedBackend('postgres', db.url), { smtpUrl: smtp.url }) });
    const o = await createOrderFixture(db.dataSource, { email: 'ben@example.com' });
    smtp.failNext = 1;
    await emit(db.dataSource, o, 'order.paid', { total: 4250, currency: 'EUR' });
    await rt.start({ schedulers: false });
    await waitFor('the email to be sent after the refusal', async () => (await count(db.dataSource, `SELECT count(*) n FROM email_message WHERE order_id = $1 AND sent_at IS NOT NULL`, [o.orderId])) === 1);
    expect(smtp.received.filter((m) => m.to[0] === 'ben@example.com')).toHaveLength(1);
    await waitFor('the send job to complete', async () => (await rt.queues.emails.getCompletedCount()) === 1);
    const [sendJob] = await rt.queues.emails.getCompleted();
    expect(sendJob?.attemptsMade).toBe(2);
  });
});

describe('emails stored for the control panel (no SMTP_URL)', () => {
  it('stores German emails for a German order, and the organizer admins get the external refund to decide', async () => {
    const rt = await tracker.create({ dataSource: db.dataSource, config: testConfig(isolatedBackend('postgres', db.url)) });
    const o = await createOrderFixture(db.dataSource, { email: 'clara@example.de', locale: 'de-AT', eventLocale: 'de', total: 123456 });
    await addAdmin(db.dataSource, o.organizerId, 'admin@veranstalter.de');
    await addAdmin(db.dataSource, o.organizerId, 'former@veranstalter.de', false);
    const payment = await addPayment(db.dataSource, o, 123456, 'confirmed');
    const refund = await addRefund(db.dataSource, o, payment, 2000, 'done', 'admin', 'Storno <Parkplatz>');
    const external = await addRefund(db.dataSource, o, payment, 500, 'external', 'external');
    await emit(db.dataSource, o, 'refund.done', { refundId: refund, provider: 'stripe', amount: 2000, currency: 'EUR' });
    await emit(db.dataSource, o, 'refund.external', { refundId: external, provider: 'stripe', amount: 500, currency: 'EUR' });
    await rt.start({ schedulers: false });
    await waitFor('both events handled', async () => (await delivered(o.orderId)) === 2);

    const list = await listStoredEmails(db.dataSource, { organizerId: o.organizerId });
    expect(list.map((e) => [e.template, e.recipient, e.locale, e.transport, e.sentAt])).toEqual([
      ['external-refund-pending', 'admin@veranstalter.de', 'de', 'stored', null],
      ['refund-done', 'clara@example.de', 'de', 'stored', null],
    ]);
    const refundMail = (await getStoredEmail(db.dataSource, list[1]!.id, o.organizerId))!;
    refundMail.bodyText = refundMail.bodyText.replace(/\u00a0/g, ' '); // Intl puts a no-break space before €
    expect(refundMail.subject).toBe(`Erstattung zu Bestellung ${o.code}`);
    expect(refundMail.bodyText).toContain('wir haben Ihnen 20,00 € für Ihre Bestellung');
    expect(refundMail.bodyText).toContain('Hinweis: Storno <Parkplatz>\nJe nach Zahlungsart');
    expect(refundMail.bodyHtml).toContain('Hinweis: Storno &lt;Parkplatz&gt;');
    expect(refundMail.bodyHtml).toContain('<html lang="de">');
    const decision = (await getStoredEmail(db.dataSource, list[0]!.id))!;
    decision.bodyText = decision.bodyText.replace(/\u00a0/g, ' ');
    expect(decision.bodyText).toContain('stripe meldet eine Erstattung über 5,00 €');
    expect(decision.bodyText).toContain(`https://shop.kassa.test/control/event/${o.organizerSlug}/${o.eventSlug}/orders/${o.code}/`);
    // Scoped reads: another organizer sees nothing.
    expect(await getStoredEmail(db.dataSource, list[0]!.id, '00000000-0000-0000-0000-000000000000')).toBeNull();
    expect(await getStoredEmail(db.dataSource, 'not-a-uuid')).toBeNull();
    expect(smtp.received).toEqual([]);
  });

  it('writes nothing for an order without an email address', async () => {
    const rt = await tracker.create({ dataSource: db.dataSource, config: testConfig(isolatedBackend('redis', db.url)) });
    const o = await createOrderFixture(db.dataSource, { email: null });
    await emit(db.dataSource, o, 'order.placed');
    await rt.start({ schedulers: false });
    await waitFor('the event to be handled', async () => (await delivered(o.orderId)) === 1);
    expect(await count(db.dataSource, `SELECT count(*) n FROM email_message WHERE order_id = $1`, [o.orderId])).toBe(0);
  });
});
