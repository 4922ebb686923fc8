import { randomBytes } from 'node:crypto';
import { emitEvent, withTransaction, type DataSource, type OutboxTopic } from '@kassa/core/host';
import { createShop } from '@kassa/testing';

export interface OrderFixture {
  organizerId: string;
  organizerSlug: string;
  eventId: string;
  eventSlug: string;
  orderId: string;
  code: string;
  secret: string;
}

/** A shop with one order (rows written directly), as the email handlers read them. */
export async function createOrderFixture(
  ds: DataSource,
  opts: { email?: string | null; locale?: string; eventLocale?: string; total?: number; status?: string; expires?: Date; createdAt?: Date; timezone?: string } = {},
): Promise<OrderFixture> {
  const shop = await createShop(ds, { event: { name: 'Summer Fest', locale: opts.eventLocale ?? 'en', timezone: opts.timezone ?? 'Europe/Berlin' } });
  const code = randomBytes(3).toString('hex').toUpperCase();
  const secret = randomBytes(8).toString('hex');
  const [order]: { id: string }[] = await ds.query(
    `INSERT INTO kassa_order (organizer_id, event_id, code, secret, email, locale, total, currency, status, expires, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'EUR', $8, $9, $10) RETURNING id`,
    [shop.organizer.id, shop.event.id, code, secret, opts.email === undefined ? 'buyer@example.com' : opts.email, opts.locale ?? 'en',
      opts.total ?? 4250, opts.status ?? 'pending', opts.expires ?? new Date('2030-01-15T17:00:00Z'), opts.createdAt ?? new Date()],
  );
  return {
    organizerId: shop.organizer.id, organizerSlug: shop.organizer.slug, eventId: shop.event.id, eventSlug: shop.event.slug,
    orderId: order!.id, code, secret,
  };
}

export async function addPayment(ds: DataSource, o: OrderFixture, amount: number, state = 'created'): Promise<string> {
  const [row]: { id: string }[] = await ds.query(
    `INSERT INTO order_payment (order_id, local_id, state, amount, currency, provider)
     VALUES ($1, (SELECT coalesce(max(local_id), 0) + 1 FROM order_payment WHERE order_id = $1), $2, $3, 'EUR', 'stripe') RETURNING id`,
    [o.orderId, state, amount],
  );
  return row!.id;
}

export async function addRefund(ds: DataSource, o: OrderFixture, paymentId: string, amount: number, state: string, source: string, comment = ''): Promise<string> {
  const [row]: { id: string }[] = await ds.query(
    `INSERT INTO order_refund (order_id, local_id, state, source, amount, currency, provider, payment_id, comment)
     VALUES ($1, (SELECT coalesce(max(local_id), 0) + 1 FROM order_refund WHERE order_id = $1), $2, $3, $4, 'EUR', 'stripe', $5, $6) RETURNING id`,
    [o.orderId, state, source, amount, paymentId, comment],
  );
  return row!.id;
}

/** Emits like core's services do: through emitEvent, with their payload shape (orderId, code, <object>Id, …). */
export async function emit(ds: DataSource, o: OrderFixture, topic: OutboxTopic, payload: Record<string, unknown> = {}): Promise<void> {
  await withTransaction(ds, (tx) => emitEvent(tx, { topic, organizerId: o.organizerId, orderId: o.orderId, payload: { orderId: o.orderId, code: o.code, ...payload } }));
}

export async function addAdmin(ds: DataSource, organizerId: string, email: string, active = true): Promise<void> {
  const [user]: { id: string }[] = await ds.query(`INSERT INTO app_user (email, password_hash, is_active) VALUES ($1, 'x', $2) RETURNING id`, [email, active]);
  const [team]: { id: string }[] = await ds.query(`INSERT INTO team (organizer_id, name, is_admin) VALUES ($1, 'Admins', true) RETURNING id`, [organizerId]);
  await ds.query(`INSERT INTO team_member (team_id, user_id) VALUES ($1, $2)`, [team!.id, user!.id]);
}
