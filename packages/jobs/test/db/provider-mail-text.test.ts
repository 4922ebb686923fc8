import { BasePaymentProvider, type PaymentOutcome, type PaymentCallInput, type ProviderContext } from '@kassa/core/host';
import { providerContextFactory, providerLookup, TestClock } from '@kassa/testing';
import type { JobsLogger } from '../../src/context';
import { loadOrderMail } from '../../src/emails/email-handlers';
import { createTestDatabase, isolatedBackend, RuntimeTracker, testConfig, waitFor, type TestDatabase } from '../support/harness';
import { createOrderFixture, emit, type OrderFixture } from '../support/order-fixture';

/*
 * The order-placed email asks the open payment's provider for its text (paymentPendingMailRender):
 * the text goes into both parts (escaped in HTML); a provider without the hook leaves the email as
 * it was, one that throws is logged and the email still goes out, without the block.
 */
abstract class MailTestProvider extends BasePaymentProvider {
  async executePayment(): Promise<PaymentOutcome> {
    return { kind: 'pending', info: {} };
  }
}
class SilentProvider extends MailTestProvider {
  readonly identifier = 'silent';
  readonly verboseName = 'Silent';
}
class ThrowingProvider extends MailTestProvider {
  readonly identifier = 'throwing';
  readonly verboseName = 'Throwing';
  override paymentPendingMailRender(): string | null {
    throw new Error('settings unreadable');
  }
}
class TellingProvider extends MailTestProvider {
  readonly identifier = 'telling';
  readonly verboseName = 'Telling';
  override paymentPendingMailRender(ctx: ProviderContext, call: PaymentCallInput): string | null {
    return `Pay <b>${call.payment.amount}</b> to "Fest & Co"\nReference: ${ctx.event.slug}-${call.order.code}`;
  }
}

let db: TestDatabase;
const tracker = new RuntimeTracker();
const clock = new TestClock(new Date());
const lookup = providerLookup(new SilentProvider(), new ThrowingProvider(), new TellingProvider());
const errors: { msg: string; data?: Record<string, unknown> }[] = [];
const logger: JobsLogger = { info() {}, warn() {}, error: (msg, data) => void errors.push({ msg, data }) };

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await tracker.cleanup();
  errors.length = 0;
});
afterAll(async () => {
  await db.destroy();
});

async function runtime() {
  return tracker.create({
    dataSource: db.dataSource, config: testConfig(isolatedBackend('redis', db.url)), logger,
    providers: { providers: lookup, providerContext: providerContextFactory(lookup, clock) },
  });
}

async function placedWith(provider: string): Promise<OrderFixture> {
  const o = await createOrderFixture(db.dataSource, { email: 'anna@example.com', locale: 'en', total: 4250 });
  await db.dataSource.query(
    `INSERT INTO order_payment (order_id, local_id, state, amount, currency, provider) VALUES ($1, 1, 'pending', 4250, 'EUR', $2)`, [o.orderId, provider]);
  await emit(db.dataSource, o, 'order.placed', { total: 4250, currency: 'EUR' });
  return o;
}

async function storedEmail(orderId: string): Promise<{ text: string; html: string }> {
  await waitFor('the order-placed email', async () =>
    (await db.dataSource.query(`SELECT 1 FROM email_message WHERE order_id = $1 AND template = 'order-placed'`, [orderId])).length === 1);
  const [row] = await db.dataSource.query(`SELECT body_text AS text, body_html AS html FROM email_message WHERE order_id = $1 AND template = 'order-placed'`, [orderId]);
  return row;
}

/** The email as the templates render it without any provider text. */
async function withoutProviderText(rt: Awaited<ReturnType<typeof runtime>>, orderId: string): Promise<{ text: string; html: string }> {
  const mail = (await loadOrderMail(db.dataSource.manager, orderId, rt.context))!;
  const rendered = rt.context.emails.renderer.render('order-placed', mail.locale, { ...mail.base, pending: true });
  return { text: rendered.text, html: rendered.html };
}

describe('the provider text in the order-placed email', () => {
  it('puts the provider text in the text part and, escaped, in the HTML part', async () => {
    const rt = await runtime();
    const o = await placedWith('telling');
    await rt.start({ schedulers: false });
    const email = await storedEmail(o.orderId);
    expect(email.text).toContain(`Pay <b>4250</b> to "Fest & Co"\nReference: ${o.eventSlug}-${o.code}`);
    expect(email.html).toContain(`Pay &lt;b&gt;4250&lt;/b&gt; to &quot;Fest &amp; Co&quot;`);
    expect(email.html).not.toContain('<b>4250');
    expect(email.html).toContain(`Reference: ${o.eventSlug}-${o.code}`);
    expect(email).not.toEqual(await withoutProviderText(rt, o.orderId));
  });

  it('leaves the email unchanged for a provider without the hook', async () => {
    const rt = await runtime();
    const o = await placedWith('silent');
    await rt.start({ schedulers: false });
    const email = await storedEmail(o.orderId);
    expect(email).toEqual(await withoutProviderText(rt, o.orderId));
    expect(email.text).toContain('Total: €42.50');
    expect(errors).toEqual([]);
  });

  it('still sends the email, without the block, when the hook throws, and logs why', async () => {
    const rt = await runtime();
    const o = await placedWith('throwing');
    await rt.start({ schedulers: false });
    const email = await storedEmail(o.orderId);
    expect(email).toEqual(await withoutProviderText(rt, o.orderId));
    expect(errors).toEqual([expect.objectContaining({ data: expect.objectContaining({ orderId: o.orderId, provider: 'throwing', error: 'settings unreadable' }) })]);
    // The event is delivered, not left to retry.
    await waitFor('the event delivered', async () => (await db.dataSource.query(
      `SELECT 1 FROM outbox_delivery d JOIN outbox_event e ON e.id = d.event_id WHERE e.order_id = $1 AND d.state = 'done'`, [o.orderId])).length === 1);
  });
});
