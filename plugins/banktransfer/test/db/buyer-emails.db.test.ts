import { randomBytes } from 'node:crypto';
import { organizerSettings } from '@kassa/core/host';
import { createJobsRuntime, defineJobsConfig, silentLogger, type JobsRuntime } from '@kassa/jobs';
import { createProduct, createQuota, createShop } from '@kassa/testing';
import { ACCOUNT, createBankHarness, type BankHarness } from '../support/bank-harness';

/*
 * The buyer's "order placed" email carries the transfer details, through the whole stack: core
 * places the order with bank transfer, the real relay and worker (Redis, a private prefix) deliver
 * order.placed, the email handler asks the provider (paymentPendingMailRender) and stores the email.
 */
let h: BankHarness;
let rt: JobsRuntime;

beforeAll(async () => {
  h = await createBankHarness();
  rt = await createJobsRuntime({
    dataSource: h.db.dataSource, logger: silentLogger, clock: h.clock,
    providers: { providers: h.providers, providerContext: h.providerContext },
    config: defineJobsConfig({
      backend: { kind: 'redis', url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: `kt${randomBytes(5).toString('hex')}` },
      publicUrl: 'https://shop.kassa.test', mailFrom: 'Kassa Test <noreply@kassa.test>',
      retry: { attempts: 3, backoffMs: 50 },
      worker: { relayPollMs: 50, orderWaitMs: 50, lockDurationMs: 2_000, stalledIntervalMs: 1_000 },
    }),
  });
  await rt.start({ schedulers: false });
});
afterAll(async () => {
  await rt?.stop();
  await rt?.destroyBackend();
  await h?.destroy();
});

/** Places a bank transfer order of 23.50 EUR in the buyer's language; returns its id, code and event slug. */
async function placeOrder(locale: string, slug: string): Promise<{ orderId: string; code: string }> {
  const shop = await createShop(h.db.dataSource, { price: 2350, event: { slug } as never });
  await h.settings.set(organizerSettings(shop.organizer.id), 'payment.banktransfer', {
    _enabled: true, ...ACCOUNT, bankName: 'Commerzbank',
    freeText: { en: 'Tickets are sent once the money arrives.', de: 'Die Tickets kommen, sobald das Geld da ist.' },
  });
  const product = await createProduct(h.db.dataSource, shop.event.id, { price: 2350 });
  await createQuota(h.db.dataSource, shop.event.id, [product], 10, 'Quota');
  const placed = await h.core.orders.placeOrder({
    eventId: shop.event.id, email: 'buyer@example.org', locale, positions: [{ productId: product.id }], provider: 'banktransfer',
  });
  await h.core.payments.executePayment(placed.payment!.id, {});
  return { orderId: placed.order.id, code: placed.order.code };
}

/** The stored order-placed email once the worker wrote it; Intl's no-break spaces made plain. */
async function placedEmail(orderId: string): Promise<{ subject: string; text: string; html: string }> {
  for (let i = 0; i < 600; i++) {
    const rows: { subject: string; text: string; html: string }[] = await h.db.dataSource.query(
      `SELECT subject, body_text AS text, body_html AS html FROM email_message WHERE order_id = $1 AND template = 'order-placed'`, [orderId]);
    if (rows[0]) return { ...rows[0], text: rows[0].text.replace(/[\u00a0\u202f]/g, ' '), html: rows[0].html.replace(/[\u00a0\u202f]/g, ' ') };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no order-placed email for ${orderId}`);
}

describe('the order-placed email of a bank transfer order', () => {
  it('names the reference, the exact amount, the account and the free text in English', async () => {
    const { orderId, code } = await placeOrder('en', 'winter');
    const email = await placedEmail(orderId);
    const reference = `WINTER-${code}`;
    for (const part of [email.text, email.html]) {
      expect(part).toContain(`Reference: ${reference}`);
      expect(part).toContain('Amount: €23.50');
      expect(part).toContain('Account holder: Winterfest e.V.');
      expect(part).toContain('IBAN: DE89 3704 0044 0532 0130 00');
      expect(part).toContain('BIC: COBADEFFXXX');
      expect(part).toContain('Bank: Commerzbank');
      expect(part).toContain('Tickets are sent once the money arrives.');
    }
  });

  it('speaks the buyer\'s language: German labels, amount and free text', async () => {
    const { orderId, code } = await placeOrder('de', 'sommer');
    const email = await placedEmail(orderId);
    expect(email.subject).toContain(code);
    for (const part of [email.text, email.html]) {
      expect(part).toContain(`Verwendungszweck: SOMMER-${code}`);
      expect(part).toContain('Betrag: 23,50 €');
      expect(part).toContain('Kontoinhaber: Winterfest e.V.');
      expect(part).toContain('IBAN: DE89 3704 0044 0532 0130 00');
      expect(part).toContain('Die Tickets kommen, sobald das Geld da ist.');
    }
    expect(email.text).not.toContain('Tickets are sent');
  });
});
