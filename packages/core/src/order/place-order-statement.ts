import type { EntityManager } from 'typeorm';
import { prepared, queryPrepared, type PreparedStatement } from '../db/prepared-query';
import { KassaError } from '../errors';
import type { Event } from '../event/event.entity';
import { OrderPayment } from '../payment/order-payment.entity';
import { OrderFee } from './order-fee.entity';
import { OrderPosition } from './order-position.entity';
import { Order } from './order.entity';
import { quotaRefusal, type LockedQuota, type NewPosition } from './quota-check';
import { columnList, hydrate } from './state-writes';

/** Everything the one-statement placement writes, worked out in Node beforehand. */
export interface OrderRows {
  id: string;
  organizerId: string;
  eventId: string;
  code: string;
  secret: string;
  email: string | null;
  locale: string;
  total: number;
  currency: string;
  expires: Date;
  testmode: boolean;
  idempotencyKey: string | null;
  feeId: string | null;
  fee: number;
  providerId: string | null;
  paymentId: string | null;
  /** The first payment is written already initiated (the caller executes it next). */
  paymentInitiated: boolean;
  actor: { type: string; id?: string | null };
  logData: Record<string, unknown>;
  eventPayload: Record<string, unknown>;
  positions: readonly NewPosition[];
}

/** What the statement did: placed the order, refused it (quota), or inserted nothing (a taken code or idempotency key). */
export type PlacementOutcome =
  | { kind: 'placed'; order: Order; positions: OrderPosition[]; fees: OrderFee[]; payment: OrderPayment | null }
  | { kind: 'conflict' }
  /** The catalogue it was priced from is out of date (a price, a product, the event): nothing written. */
  | { kind: 'stale' };

/*
 * The whole order in ONE prepared statement, sent outside any transaction so that it commits on
 * its own: the quota locks, the room check, the order, its fee, first payment, positions, the
 * 'kassa.order.placed' log entry and event. On a hot quota every buyer waits for the previous
 * one's lock, and the lock used to be held across a round trip to Node (the COMMIT after the
 * positions statement): with the server's event loop busy, that round trip, not the database, set
 * the pace. Now the lock is taken and released inside PostgreSQL (statement, then commit).
 *
 * The order was priced in Node from a catalogue that may be cached (catalogue-cache.ts): `fresh`
 * checks every price and product used, and the event fields used (organizer, currency, payment
 * term, default locale), against the tables, and nothing is written unless they match.
 *
 * Since nothing can be rolled back after this statement, the SQL alone decides: `verdict` is
 * quotaRefusal's rule (every product in some quota of the event, no limited quota over its size)
 * and every insert hangs off `o`, which inserts only when the verdict is ok. A taken order code or
 * idempotency key makes `o` insert nothing (ON CONFLICT DO NOTHING), so nothing else is written
 * either; the caller tells the two apart. `q` re-reads the locked rows after waiting (READ
 * COMMITTED), so `used` is the latest committed usage; the positions' statement-level trigger then
 * adds this order to it before the commit.
 *
 * The positions come as one jsonb parameter (jsonb_to_recordset), not as arrays: with array
 * parameters PostgreSQL prices its generic plan above the custom ones (it guesses ten elements
 * per array) and re-plans this statement on every call, 1.5–1.9 ms of planning per order, more
 * than the statement's execution. A jsonb set is guessed the same way in both, so after five
 * calls the connection keeps the generic plan.
 */
let placeSql: PreparedStatement | undefined;

function placeStatement(m: EntityManager): PreparedStatement {
  if (placeSql) return placeSql;
  const positionColumns = m.connection.getMetadata(OrderPosition).columns.map((c) => `${c.databaseName} AS position__${c.databaseName}`).join(', ');
  placeSql = prepared('place_order', `WITH want AS (
      SELECT t.product_id, t.position_no, t.price, t.attendee_name
        FROM jsonb_to_recordset($20::jsonb) AS t(product_id uuid, position_no integer, price bigint, attendee_name text)),
    q AS MATERIALIZED (
      SELECT q.id, q.name, q.size, u.used FROM quota q JOIN quota_usage u ON u.quota_id = q.id
       WHERE q.id IN (SELECT quota_id FROM quota_product WHERE product_id IN (SELECT product_id FROM want))
       ORDER BY q.id
         FOR NO KEY UPDATE OF q, u),
    need AS MATERIALIZED (
      SELECT q.id, q.name, q.size, q.used,
             array(SELECT qp.product_id::text FROM quota_product qp WHERE qp.quota_id = q.id AND qp.product_id IN (SELECT product_id FROM want)) AS products,
             (SELECT count(*)::integer FROM want w JOIN quota_product qp ON qp.product_id = w.product_id AND qp.quota_id = q.id) AS wanted
        FROM q),
    fresh AS MATERIALIZED (
      SELECT EXISTS (SELECT 1 FROM event e WHERE e.id = $3::uuid AND e.organizer_id = $2::uuid AND e.currency = $9::text
                        AND e.payment_term_days = $23::integer AND e.locale = $24::text)
         AND NOT EXISTS (SELECT 1 FROM want w WHERE NOT EXISTS (
               SELECT 1 FROM product p WHERE p.id = w.product_id AND p.event_id = $3::uuid AND p.active AND p.price = w.price)) AS ok),
    verdict AS MATERIALIZED (
      SELECT NOT EXISTS (SELECT 1 FROM need WHERE size IS NOT NULL AND wanted > size - used)
         AND NOT EXISTS (SELECT 1 FROM want w WHERE NOT EXISTS (SELECT 1 FROM need n WHERE w.product_id::text = ANY(n.products))) AS ok),
    o AS (
      INSERT INTO kassa_order (id, organizer_id, event_id, code, secret, email, locale, total, currency, status, expires, testmode, idempotency_key)
      SELECT $1::uuid, $2::uuid, $3::uuid, $4::text, $5::text, $6::text, $7::text, $8::bigint, $9::text, 'pending', $10::timestamptz, $11::boolean, $21::text
        FROM verdict, fresh WHERE verdict.ok AND fresh.ok
      ON CONFLICT DO NOTHING
      RETURNING ${columnList(m, Order)}),
    fee AS (
      INSERT INTO order_fee (id, order_id, fee_type, internal_type, value, description, canceled)
      SELECT $12::uuid, o.id, 'payment', $13::text, $14::bigint, '', false FROM o WHERE $14::bigint > 0
      RETURNING id),
    pay AS (
      INSERT INTO order_payment (id, order_id, local_id, state, amount, currency, provider, info, fee_id, process_initiated, payment_date)
      SELECT $15::uuid, o.id, 1, 'created', o.total, o.currency, $13::text, '{}'::jsonb, (SELECT id FROM fee), $22::boolean, NULL
        FROM o WHERE $13::text IS NOT NULL
      RETURNING created_at),
    entry AS (
      INSERT INTO log_entry (organizer_id, event_id, order_id, object_type, object_id, action, actor_type, actor_id, data)
      SELECT o.organizer_id, o.event_id, o.id, 'order', o.id, 'kassa.order.placed', $16::text, $17::text, $18::jsonb FROM o),
    ev AS (
      INSERT INTO outbox_event (topic, organizer_id, order_id, payload)
      SELECT 'order.placed', o.organizer_id, o.id, $19::jsonb FROM o),
    ins AS (
      INSERT INTO order_position (order_id, product_id, position_no, price, attendee_name, canceled)
      SELECT o.id, w.product_id, w.position_no, w.price, w.attendee_name, false FROM o CROSS JOIN want w
      RETURNING ${positionColumns})
    SELECT f.ok AS fresh, v.ok, (SELECT coalesce(json_agg(json_build_object('id', id, 'name', name, 'size', size, 'used', used, 'products', products)), '[]') FROM need) AS quotas,
           (SELECT created_at FROM pay) AS payment_created_at, o.*, ins.*
      FROM verdict v CROSS JOIN fresh f LEFT JOIN o ON true LEFT JOIN ins ON true`);
  return placeSql;
}

/**
 * Runs the one-statement placement on a pooled connection (it commits by itself). Throws the
 * quota refusal (ORDER_QUOTA_EXCEEDED, ORDER_PRODUCT_UNAVAILABLE) when the verdict says no.
 */
export async function placeInOneStatement(m: EntityManager, r: OrderRows, pricedFrom: Pick<Event, 'paymentTermDays' | 'locale'>): Promise<PlacementOutcome> {
  const productIds = r.positions.map((p) => p.productId);
  const rows = await queryPrepared(m, placeStatement(m), [
    r.id, r.organizerId, r.eventId, r.code, r.secret, r.email, r.locale, r.total, r.currency, r.expires, r.testmode,
    r.feeId, r.providerId, r.feeId ? r.fee : 0, r.paymentId, r.actor.type, r.actor.id ?? null, JSON.stringify(r.logData),
    JSON.stringify(r.eventPayload),
    JSON.stringify(r.positions.map((p, i) => ({ product_id: p.productId, position_no: i + 1, price: p.price, attendee_name: p.attendeeName }))),
    r.idempotencyKey, r.paymentInitiated, pricedFrom.paymentTermDays, pricedFrom.locale,
  ]);
  const first = rows[0] as Record<string, unknown>;
  if (!first.fresh) return { kind: 'stale' };
  if (!first.ok) {
    // The same rule in Node says why; should it ever find nothing, still refuse (nothing was written).
    throw quotaRefusal(productIds, first.quotas as LockedQuota[])
      ?? new KassaError('ORDER_QUOTA_EXCEEDED', { detail: 'no quota left for these positions' });
  }
  if (first.id === null || first.id === undefined) return { kind: 'conflict' };
  const order = hydrate(m, Order, first);
  const positions = rows.map((row) => hydrate(m, OrderPosition, unprefix(row, 'position__'))).sort((a, b) => a.positionNo - b.positionNo);
  const fees = r.feeId ? [m.create(OrderFee, {
    id: r.feeId, orderId: r.id, feeType: 'payment', internalType: r.providerId as string, value: r.fee, description: '', canceled: false,
  })] : [];
  const payment = r.paymentId ? m.create(OrderPayment, {
    id: r.paymentId, orderId: r.id, localId: 1, state: 'created', amount: r.total, currency: order.currency, provider: r.providerId as string,
    info: {}, feeId: r.feeId, processInitiated: r.paymentInitiated, paymentDate: null, createdAt: first.payment_created_at as Date,
  }) : null;
  return { kind: 'placed', order, positions, fees, payment };
}

function unprefix(row: Record<string, unknown>, prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}
