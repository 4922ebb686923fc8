import { createKassaCore, OrderPosition } from '@kassa/core/host';
import { createShop, providerContextFactory, providerLookup, ScriptedProvider, TestClock } from '@kassa/testing';
import { getStoredEmail, listStoredEmails } from '../../src/emails/stored-emails';
import { count, createTestDatabase, isolatedBackend, RuntimeTracker, testConfig, waitFor, type TestDatabase } from '../support/harness';

let db: TestDatabase;
const tracker = new RuntimeTracker();

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await tracker.cleanup();
});
afterAll(async () => {
  await db.destroy();
});

/** The real core changes the order; the real worker relays its event and writes the buyer's email. */
describe('the "order changed" email', () => {
  it('tells the buyer the new total and what is still to pay (English) or what is owed back (German)', async () => {
    const clock = new TestClock('2030-03-01T10:00:00Z');
    const card = new ScriptedProvider({ identifier: 'card', refund: true, partialRefund: true });
    const providers = providerLookup(card);
    const core = createKassaCore({ dataSource: db.dataSource, providers, providerContext: providerContextFactory(providers, clock), clock });
    const shop = await createShop(db.dataSource, { event: { name: 'Summer Fest', timezone: 'Europe/Berlin' } });
    const admin = { type: 'user', id: 'admin-1' } as const;
    const place = async (locale: string, count: number) => (await core.orders.placeOrder({
      eventId: shop.event.id, email: `${locale}@example.org`, locale, provider: 'card',
      positions: Array.from({ length: count }, () => ({ productId: shop.product.id })),
    }));

    // Paid, then grows: pending again with 5.00 to pay.
    const grown = await place('en', 1);
    await core.payments.confirmPayment(grown.payment!.id, { actor: { type: 'provider', id: 'card' } });
    const [pos] = await db.dataSource.manager.find(OrderPosition, { where: { orderId: grown.order.id } });
    await core.orders.changeOrder(grown.order.id, { operations: [{ kind: 'change_price', positionId: pos!.id, price: 1500 }], actor: admin });
    // Paid, then shrinks: 10.00 owed back.
    const shrunk = await place('de', 2);
    await core.payments.confirmPayment(shrunk.payment!.id, { actor: { type: 'provider', id: 'card' } });
    const [first] = await db.dataSource.manager.find(OrderPosition, { where: { orderId: shrunk.order.id }, order: { positionNo: 'ASC' } });
    await core.orders.changeOrder(shrunk.order.id, { operations: [{ kind: 'cancel_position', positionId: first!.id }], actor: admin });

    const rt = await tracker.create({ dataSource: db.dataSource, config: testConfig(isolatedBackend('postgres', db.url)) });
    await rt.start({ schedulers: false });
    const changed = (orderId: string) => count(db.dataSource, `SELECT count(*) n FROM email_message WHERE order_id = $1 AND template = 'order-changed'`, [orderId]);
    await waitFor('both change emails', async () => (await changed(grown.order.id)) === 1 && (await changed(shrunk.order.id)) === 1);

    const list = await listStoredEmails(db.dataSource, { organizerId: shop.organizer.id });
    const en = (await getStoredEmail(db.dataSource, list.find((e) => e.orderId === grown.order.id && e.template === 'order-changed')!.id))!;
    const text = en.bodyText.replace(/\u00a0/g, ' ');
    expect(en.subject).toBe(`Your order ${grown.order.code} was changed`);
    expect(en.recipient).toBe('en@example.org');
    expect(text).toContain('Total before: €10.00\nTotal now: €15.00');
    expect(text).toContain('Still to pay: €5.00, please by March 15, 2030');
    expect(en.bodyHtml).toContain('Still to pay: <strong>€5.00</strong>');

    const de = (await getStoredEmail(db.dataSource, list.find((e) => e.orderId === shrunk.order.id && e.template === 'order-changed')!.id))!;
    const deText = de.bodyText.replace(/\u00a0/g, ' ');
    expect(de.subject).toBe(`Ihre Bestellung ${shrunk.order.code} wurde geändert`);
    expect(deText).toContain('Bisheriger Gesamtbetrag: 20,00 €\nNeuer Gesamtbetrag: 10,00 €');
    expect(deText).toContain('Sie haben 10,00 € mehr bezahlt');
    expect(deText).not.toContain('Noch zu zahlen');
  });
});
