import type { EntityManager } from 'typeorm';
import { KassaError } from '../errors';
import { Event } from '../event/event.entity';
import { Product } from '../event/product.entity';
import type { Catalogue } from './catalogue-cache';
import { OrderFee } from '../order/order-fee.entity';
import { OrderPosition } from '../order/order-position.entity';
import { Order } from '../order/order.entity';
import { OrderPayment } from '../payment/order-payment.entity';
import { logInsertCte, outboxInsertCte, sqlText } from './audit-outbox';
import { firstPaymentState, placedEffects, placedStatus, type OrderRows, type PlacementOutcome } from './placement-batch';
import { prepared, queryPrepared } from './prepared-query';
import { columnList, hydrate, prefixedColumns, unprefixed } from './rows';

/*
 * The reads and the transactional insert of order placement (the batched insert is
 * placement-batch.ts): the catalogue an order is priced from, the order with its fee, first
 * payment, log entry and event, and the lookup of an order placed earlier with the same key.
 */

// The event and the wanted (active, same-event) products in one prepared statement: one row per
// product found, or one row with null product columns when none is.
const catalogueSql = prepared('load_catalogue', () => `SELECT ${columnList(Event, 'e')}, ${prefixedColumns(Product, 'product__', 'p')}
      FROM event e LEFT JOIN product p ON p.event_id = e.id AND p.id = ANY($2::uuid[]) AND p.active
     WHERE e.id = $1`);

/** Reads the event and those of `productIds` that are active products of it; NOT_FOUND without the event. */
export async function readCatalogue(m: EntityManager, eventId: string, productIds: readonly string[]): Promise<Catalogue> {
  const rows = await queryPrepared(m, catalogueSql, [eventId, productIds]);
  if (!rows[0]) throw new KassaError('NOT_FOUND', { entity: `Event ${eventId}` });
  const event = hydrate(m, Event, rows[0]);
  const products = new Map<string, Product>();
  for (const row of rows) {
    if (row.product__id === null) continue;
    const product = hydrate(m, Product, unprefixed(row, 'product__'));
    products.set(product.id, product);
  }
  return { event, products };
}

/*
 * The order with its payment fee, its first payment (local id 1, state created) and the
 * 'kassa.order.placed' log entry and event, in one prepared statement: placeOrder runs for every
 * ticket sold, and each round trip costs CPU on both sides. Ids are made by the caller so that the
 * data of the log entry and the event are known up front. A taken code inserts nothing
 * at all (ON CONFLICT DO NOTHING on the order, and every other row is selected from it).
 */
const insertOrderSql = prepared('insert_order', () => `WITH o AS (
      INSERT INTO kassa_order (id, organizer_id, event_id, code, secret, email, locale, total, currency, status, expires, testmode, idempotency_key, country)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, ${sqlText(placedStatus)}, $10, $11, $20, $22)
      ON CONFLICT DO NOTHING
      RETURNING ${columnList(Order)}),
    fee AS (
      INSERT INTO order_fee (id, order_id, fee_type, internal_type, value, description, canceled)
      SELECT $12::uuid, o.id, 'payment', $13::text, $14::bigint, '', false FROM o WHERE $14::bigint > 0
      RETURNING id),
    pay AS (
      INSERT INTO order_payment (id, order_id, local_id, state, amount, currency, provider, info, fee_id, process_initiated, payment_date)
      SELECT $15::uuid, o.id, 1, ${sqlText(firstPaymentState)}, o.total, o.currency, $13::text, '{}'::jsonb, (SELECT id FROM fee), $21::boolean, NULL
        FROM o WHERE $13::text IS NOT NULL
      RETURNING created_at),
    ${logInsertCte('entry', {
    organizerId: 'o.organizer_id', eventId: 'o.event_id', orderId: 'o.id', objectType: sqlText('order'), objectId: 'o.id',
    action: sqlText(placedEffects.log), actorType: '$16::text', actorId: '$17::text', data: '$18::jsonb',
  }, 'o')},
    ${outboxInsertCte('ev', { topic: sqlText(placedEffects.topic), organizerId: 'o.organizer_id', orderId: 'o.id', payload: '$19::jsonb' }, 'o')}
    SELECT o.*, (SELECT created_at FROM pay) AS payment_created_at FROM o`);

/**
 * Inserts one order (positions are inserted by the caller, within quota) with its fee, first
 * payment, log entry and event. Null when its code or idempotency key is taken: nothing
 * was written.
 */
export async function insertOrderRows(
  tx: EntityManager, r: OrderRows,
): Promise<{ order: Order; payment: OrderPayment | null; fees: OrderFee[] } | null> {
  const [row] = await queryPrepared(tx, insertOrderSql, [
    r.id, r.organizerId, r.eventId, r.code, r.secret, r.email, r.locale, r.total, r.currency, r.expires, r.testmode,
    r.feeId, r.providerId, r.feeId ? r.fee : 0, r.paymentId, r.actor.type, r.actor.id ?? null,
    JSON.stringify(r.logData), JSON.stringify(r.eventPayload), r.idempotencyKey, r.paymentInitiated, r.country,
  ]);
  if (!row) return null;
  const order = hydrate(tx, Order, row);
  const fees = r.feeId ? [tx.create(OrderFee, { id: r.feeId, orderId: r.id, feeType: 'payment', internalType: r.providerId as string, value: r.fee, description: '', canceled: false })] : [];
  const payment = r.paymentId ? tx.create(OrderPayment, {
    id: r.paymentId, orderId: r.id, localId: 1, state: firstPaymentState, amount: r.total, currency: order.currency, provider: r.providerId as string,
    info: {}, feeId: r.feeId, processInitiated: r.paymentInitiated, paymentDate: null, createdAt: row.payment_created_at as Date,
  }) : null;
  return { order, payment, fees };
}

/** Whether an order of the event carries the idempotency key. */
export async function idempotencyKeyTaken(m: EntityManager, eventId: string, key: string): Promise<boolean> {
  return (await m.query('SELECT 1 FROM kassa_order WHERE event_id = $1 AND idempotency_key = $2', [eventId, key])).length > 0;
}

/** The order an earlier call placed with this key, with what placeOrder returns (its first payment). */
export async function findPlacedByIdempotencyKey(
  m: EntityManager, eventId: string, key: string,
): Promise<(Omit<Extract<PlacementOutcome, { kind: 'placed' }>, 'kind'> & { replayed: true }) | null> {
  const order = await m.findOne(Order, { where: { eventId, idempotencyKey: key } });
  if (!order) return null;
  const [positions, fees, payment] = await Promise.all([
    m.find(OrderPosition, { where: { orderId: order.id }, order: { positionNo: 'ASC' } }),
    m.find(OrderFee, { where: { orderId: order.id } }),
    m.findOne(OrderPayment, { where: { orderId: order.id, localId: 1 } }),
  ]);
  return { order, positions, fees, payment, replayed: true };
}
