import { organizerSettings } from '@kassa/core/host';
import { createProduct, createQuota, createShop } from '@kassa/testing';
import { reminderJob, sendReminders } from '../../src';
import { ACCOUNT, createBankHarness, type BankHarness } from '../support/bank-harness';

/*
 * Payment reminders for open bank transfers, on the real database through the plugin port: due per
 * the reminder settings, with the transfer details and what is still owed, once per step however
 * often or concurrently the job runs, and never for an order that is paid or has no address.
 */
const DAY = 86_400_000;
let h: BankHarness;

beforeAll(async () => { h = await createBankHarness(); });
afterAll(async () => { await h?.destroy(); });

interface Placed { orderId: string; paymentId: string; code: string; createdAt: Date; organizerId: string }

/** A new organizer (term 10 days, reminders 6 and 2 days before) and one bank transfer order of 23.50 EUR. */
async function placeOrder(opts: { locale?: string; email?: string | null } = {}): Promise<Placed> {
  const shop = await createShop(h.db.dataSource, { price: 2350 });
  await h.settings.set(organizerSettings(shop.organizer.id), 'payment.banktransfer', {
    _enabled: true, ...ACCOUNT, bankName: 'Commerzbank', paymentTermDays: 10, reminderDaysBefore: [6, 2],
    freeText: { en: 'Tickets follow the money.', de: 'Tickets kommen mit dem Geld.' },
  });
  const product = await createProduct(h.db.dataSource, shop.event.id, { price: 2350 });
  await createQuota(h.db.dataSource, shop.event.id, [product], 10, 'Quota');
  const placed = await h.core.orders.placeOrder({
    eventId: shop.event.id, email: opts.email === undefined ? 'buyer@example.org' : opts.email, locale: opts.locale ?? 'en',
    positions: [{ productId: product.id }], provider: 'banktransfer',
  });
  await h.core.payments.executePayment(placed.payment!.id, {});
  const [row] = await h.db.dataSource.query('SELECT created_at FROM order_payment WHERE id = $1', [placed.payment!.id]);
  return { orderId: placed.order.id, paymentId: placed.payment!.id, code: placed.order.code, createdAt: new Date(row.created_at), organizerId: shop.organizer.id };
}

async function remindersOf(orderId: string): Promise<{ subject: string; text: string; html: string; recipient: string; dedup_key: string; transport: string }[]> {
  const rows = await h.db.dataSource.query(
    `SELECT subject, body_text AS text, body_html AS html, recipient, dedup_key, transport FROM email_message
      WHERE order_id = $1 AND template = 'plugin:banktransfer' ORDER BY created_at, id`, [orderId]);
  return rows.map((r: { text: string; html: string }) => ({ ...r, text: r.text.replace(/[\u00a0\u202f]/g, ' '), html: r.html.replace(/[\u00a0\u202f]/g, ' ') }));
}

const at = (p: Placed, days: number) => h.clock.set(new Date(p.createdAt.getTime() + days * DAY));

describe('bank transfer payment reminders (job, real database)', () => {
  it('reminds at each step with the transfer details, once per step, and not before or after', async () => {
    const p = await placeOrder();
    at(p, 3);
    await sendReminders(h.rt);
    expect(await remindersOf(p.orderId)).toEqual([]);

    at(p, 4.5); // 5.5 days before the deadline: the 6-day step
    await sendReminders(h.rt);
    await sendReminders(h.rt);
    const first = await remindersOf(p.orderId);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ recipient: 'buyer@example.org', dedup_key: `plugin:banktransfer:reminder:${p.paymentId}:6`, transport: 'stored' });
    expect(first[0]!.subject).toBe(`Reminder: bank transfer for order ${p.code}`);
    for (const line of [`-${p.code}\nAmount: €23.50`, 'Amount: €23.50', 'Account holder: Winterfest e.V.', 'IBAN: DE89 3704 0044 0532 0130 00', 'BIC: COBADEFFXXX', 'Bank: Commerzbank', 'Tickets follow the money.', '/order/']) {
      expect(first[0]!.text).toContain(line);
    }
    expect(first[0]!.text).toMatch(/Please transfer €23\.50 by \w+ \d+, \d{4}\./);

    // Two workers at once on the 2-day step: one email.
    at(p, 8.5);
    const [a, b] = await Promise.all([sendReminders(h.rt), sendReminders(h.rt), reminderJob.processor({}, { ...h.rt, attempt: 2 })]);
    expect(a.sent + b.sent).toBeLessThanOrEqual(1);
    expect((await remindersOf(p.orderId)).map((e) => e.dedup_key)).toEqual([
      `plugin:banktransfer:reminder:${p.paymentId}:6`, `plugin:banktransfer:reminder:${p.paymentId}:2`,
    ]);

    at(p, 10.5); // past the deadline
    await sendReminders(h.rt);
    expect(await remindersOf(p.orderId)).toHaveLength(2);
  });

  it('a worker that was down over two steps sends the latest one only, never the earlier one afterwards', async () => {
    const p = await placeOrder();
    at(p, 9);
    await sendReminders(h.rt);
    at(p, 9.5);
    await sendReminders(h.rt);
    expect((await remindersOf(p.orderId)).map((e) => e.dedup_key)).toEqual([`plugin:banktransfer:reminder:${p.paymentId}:2`]);
  });

  it('asks for what is still owed after a part-transfer, in the buyer\'s language', async () => {
    const p = await placeOrder({ locale: 'de' });
    const part = await h.rt.payments.receivedPayment(p.orderId, { provider: 'banktransfer', amount: { amount: 1000, currency: 'EUR' } });
    await h.rt.payments.confirm(part.id);
    at(p, 5);
    await sendReminders(h.rt);
    const [mail] = await remindersOf(p.orderId);
    expect(mail!.subject).toBe(`Erinnerung: Überweisung für Bestellung ${p.code}`);
    expect(mail!.text).toContain('Betrag: 13,50 €');
    expect(mail!.text).toContain('Tickets kommen mit dem Geld.');
    expect(mail!.text).toContain('Bitte überweisen Sie 13,50 € bis zum');
    expect(mail!.html).toContain('Betrag: 13,50 €');
  });

  it('writes nothing for a paid order, an order without an address, or a payment that is no longer open', async () => {
    const paid = await placeOrder();
    await h.rt.payments.confirm(paid.paymentId);
    const noMail = await placeOrder({ email: null });
    const canceled = await placeOrder();
    await h.rt.payments.cancel(canceled.paymentId);
    for (const p of [paid, noMail, canceled]) {
      at(p, 5);
      await sendReminders(h.rt);
      expect(await remindersOf(p.orderId)).toEqual([]);
      // Asked directly, core refuses to write it too (the check is in the write itself).
      expect(await h.rt.payments.emailBuyer(p.paymentId, { key: 'probe', subject: 's', text: 't' })).toBeNull();
    }
  });

  it('the port pages open payments by (created, id) without gaps or repeats, and leaves out paid orders', async () => {
    const paid = await placeOrder();
    await h.rt.payments.confirm(paid.paymentId);
    for (let i = 0; i < 3; i++) await placeOrder();
    const createdAfter = new Date(Date.now() - 3_600_000);
    const all = (await h.rt.payments.openPayments({ provider: 'banktransfer', createdAfter, limit: 1000 })).map((p) => p.payment.id);
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(all).not.toContain(paid.paymentId);
    const paged: string[] = [];
    let after: { createdAt: Date; id: string } | undefined;
    for (;;) {
      const page = await h.rt.payments.openPayments({ provider: 'banktransfer', createdAfter, limit: 2, ...(after ? { after } : {}) });
      paged.push(...page.map((p) => p.payment.id));
      if (page.length < 2) break;
      after = { createdAt: page[1]!.payment.createdAt, id: page[1]!.payment.id };
    }
    expect(paged).toEqual(all);
  });

  it('escapes the text in the HTML part, and the port keeps a plugin to its own providers', async () => {
    const p = await placeOrder();
    h.clock.set(p.createdAt);
    const written = await h.rt.payments.emailBuyer(p.paymentId, { key: `probe:${p.paymentId}`, subject: 'Hi\r\nBcc: x@evil.test', text: '<script>alert(1)</script>\nline' });
    expect(written).not.toBeNull();
    const [mail] = (await remindersOf(p.orderId));
    expect(mail!.subject).toBe('Hi Bcc: x@evil.test');
    expect(mail!.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;<br>line');
    expect(mail!.html).not.toContain('<script>');
    expect(await h.rt.payments.emailBuyer(p.paymentId, { key: `probe:${p.paymentId}`, subject: 'again', text: 'again' })).toBeNull();
    await expect(h.rt.payments.openPayments({ provider: 'stripe', createdAfter: new Date(0) })).rejects.toThrow(/not a provider of plugin banktransfer/);
  });
});
