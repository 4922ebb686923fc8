import { getMetadataArgsStorage, type EntityManager, type EntityTarget, type ObjectLiteral } from 'typeorm';
import { KassaError } from '../errors';
import { Order } from '../order/order.entity';
import { OrderPayment } from '../payment/order-payment.entity';
import { OrderRefund } from '../refund/order-refund.entity';

/*
 * Row helpers of the persistence kernel: row locks, entity column lists for hand-written
 * statements, hydration of raw rows, and per-order local ids.
 * Lock order is always order → payment → refund → quota, so two services never deadlock.
 */

/** Locks the order row (SELECT … FOR UPDATE); NOT_FOUND when it does not exist. */
export async function lockOrder(tx: EntityManager, orderId: string): Promise<Order> {
  return lockRow(tx, Order, orderId, 'Order');
}

export async function lockPayment(tx: EntityManager, paymentId: string): Promise<OrderPayment> {
  return lockRow(tx, OrderPayment, paymentId, 'Payment');
}

export async function lockRefund(tx: EntityManager, refundId: string): Promise<OrderRefund> {
  return lockRow(tx, OrderRefund, refundId, 'Refund');
}

/** What the audit entry and the outbox event need to know about the order a row belongs to. */
export type OrderRef = Pick<Order, 'id' | 'organizerId' | 'eventId' | 'code'>;

/**
 * Locks only the payment row (pretix's confirm and fail serialise on it) and reads, in the same
 * round trip and without locking it, the order fields the audit entry needs.
 */
export async function lockPaymentWithOrder(tx: EntityManager, paymentId: string): Promise<{ payment: OrderPayment; order: OrderRef }> {
  if (!isUuid(paymentId)) throw new KassaError('NOT_FOUND', { entity: `Payment ${paymentId}` });
  const rows: Record<string, unknown>[] = await tx.query(
    `SELECT p.*, o.organizer_id AS order_organizer_id, o.event_id AS order_event_id, o.code AS order_code
       FROM order_payment p JOIN kassa_order o ON o.id = p.order_id
      WHERE p.id = $1 FOR UPDATE OF p`, [paymentId]);
  const row = rows[0];
  if (!row) throw new KassaError('NOT_FOUND', { entity: `Payment ${paymentId}` });
  const payment = hydrate(tx, OrderPayment, row);
  return { payment, order: orderRefFrom(payment.orderId, row) };
}

/** The OrderRef of a row that carries `order_organizer_id`, `order_event_id` and `order_code`. */
export function orderRefFrom(orderId: string, row: Record<string, unknown>): OrderRef {
  return { id: orderId, organizerId: String(row.order_organizer_id), eventId: String(row.order_event_id), code: String(row.order_code) };
}

/** The database column names of an entity, from its declaration (the same for every DataSource). */
function columnNames(target: EntityTarget<ObjectLiteral>): string[] {
  const names = getMetadataArgsStorage().columns
    .filter((c) => c.target === target)
    .map((c) => c.options.name ?? c.propertyName);
  if (names.length === 0) throw new Error(`no columns declared for ${String((target as { name?: string }).name ?? target)}`);
  return names;
}

/**
 * The entity's columns as an explicit SELECT/RETURNING list (`alias.col, …`), for prepared
 * statements, which must not use `*` (see prepared-query.ts). Read from the entity declaration,
 * so a statement composed from it is the same for every DataSource.
 */
export function columnList<T extends ObjectLiteral>(target: EntityTarget<T>, alias?: string): string {
  return columnNames(target).map((c) => (alias ? `${alias}.${c}` : c)).join(', ');
}

/** `alias.col AS prefixcol, …` (or `col AS prefixcol` without alias) for every column of the entity: several entities in one row. */
export function prefixedColumns<T extends ObjectLiteral>(target: EntityTarget<T>, prefix: string, alias?: string): string {
  return columnNames(target).map((c) => `${alias ? `${alias}.` : ''}${c} AS ${prefix}${c}`).join(', ');
}

/** The columns of `row` that start with `prefix`, without it (the other side of prefixedColumns). */
export function unprefixed(row: Record<string, unknown>, prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

/** Builds an entity from a raw row (snake_case columns), with the column types and transformers applied. */
export function hydrate<T extends ObjectLiteral>(tx: EntityManager, target: EntityTarget<T>, row: Record<string, unknown>): T {
  const meta = tx.connection.getMetadata(target);
  const entity = meta.create() as T;
  for (const col of meta.columns) col.setEntityValue(entity, tx.connection.driver.prepareHydratedValue(row[col.databaseName], col));
  return entity;
}

async function lockRow<T extends ObjectLiteral>(tx: EntityManager, entity: EntityTarget<T>, id: string, name: string): Promise<T> {
  if (!isUuid(id)) throw new KassaError('NOT_FOUND', { entity: `${name} ${id}` });
  const row = await tx.getRepository(entity).findOne({ where: { id } as never, lock: { mode: 'pessimistic_write' } });
  if (!row) throw new KassaError('NOT_FOUND', { entity: `${name} ${id}` });
  return row;
}

export function isUuid(id: unknown): id is string {
  return typeof id === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}

/** max(local_id) + 1 for the order; call only while holding the order row lock. */
export async function nextLocalId(tx: EntityManager, table: 'order_payment' | 'order_refund', orderId: string): Promise<number> {
  const [row] = await tx.query(`SELECT coalesce(max(local_id), 0) + 1 AS n FROM ${table} WHERE order_id = $1`, [orderId]);
  return Number(row.n);
}
