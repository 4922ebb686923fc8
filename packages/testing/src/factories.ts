import { randomBytes } from 'node:crypto';
import { Event, Organizer, Product, Quota, type DataSource } from '@kassa/core/host';

/**
 * Rows a domain test needs, written straight to the database (no service logic involved).
 * Every factory takes overrides; defaults are unique so that tests in one schema never collide.
 */
const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

export async function createOrganizer(ds: DataSource, over: Partial<Organizer> = {}): Promise<Organizer> {
  return ds.getRepository(Organizer).save({ slug: unique('org'), name: 'Test Organizer', ...over });
}

export async function createEvent(ds: DataSource, over: Partial<Event> = {}): Promise<Event> {
  const organizerId = over.organizerId ?? (await createOrganizer(ds)).id;
  return ds.getRepository(Event).save({
    organizerId, slug: unique('ev'), name: 'Test Event', currency: 'EUR', timezone: 'UTC', locale: 'en',
    paymentTermDays: 14, paymentTermAcceptLate: true, live: true, ...over,
  });
}

export async function createProduct(ds: DataSource, eventId: string, over: Partial<Product> = {}): Promise<Product> {
  return ds.getRepository(Product).save({ eventId, name: 'Ticket', price: 1000, active: true, position: 0, ...over });
}

/** A quota of `size` (null = unlimited) over the given products. */
export async function createQuota(ds: DataSource, eventId: string, products: Product[], size: number | null, name = 'Quota'): Promise<Quota> {
  return ds.getRepository(Quota).save({ eventId, name, size, products });
}

export interface ShopFixture {
  organizer: Organizer;
  event: Event;
  product: Product;
  quota: Quota;
}

/** One organizer, one event, one product at `price` in one quota of `quotaSize`. */
export async function createShop(
  ds: DataSource,
  opts: { currency?: string; price?: number; quotaSize?: number | null; event?: Partial<Event> } = {},
): Promise<ShopFixture> {
  const organizer = await createOrganizer(ds);
  const event = await createEvent(ds, { organizerId: organizer.id, currency: opts.currency ?? 'EUR', ...opts.event });
  const product = await createProduct(ds, event.id, { price: opts.price ?? 1000 });
  const quota = await createQuota(ds, event.id, [product], opts.quotaSize === undefined ? 100 : opts.quotaSize);
  return { organizer, event, product, quota };
}

/**
 * What the domain services write: row counts of every table they insert into, plus every
 * order/payment/refund state and amount. Two equal snapshots mean nothing was written.
 */
export async function snapshotRows(ds: DataSource): Promise<Record<string, string>> {
  const tables = ['kassa_order', 'order_position', 'order_fee', 'order_payment', 'order_refund', 'log_entry', 'outbox_event'];
  const counts: { t: string; n: string }[] = await ds.query(
    tables.map((t) => `SELECT '${t}' AS t, count(*)::text AS n FROM ${t}`).join(' UNION ALL '),
  );
  const [states] = await ds.query(`
    SELECT
      (SELECT coalesce(string_agg(id || ':' || status || ':' || total || ':' || expires, ',' ORDER BY id), '') FROM kassa_order) AS orders,
      (SELECT coalesce(string_agg(id || ':' || state || ':' || amount || ':' || info::text, ',' ORDER BY id), '') FROM order_payment) AS payments,
      (SELECT coalesce(string_agg(id || ':' || state || ':' || amount, ',' ORDER BY id), '') FROM order_refund) AS refunds`);
  return { ...Object.fromEntries(counts.map((r) => [r.t, r.n])), ...(states as Record<string, string>) };
}
