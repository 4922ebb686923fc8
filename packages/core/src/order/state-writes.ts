import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { logAction, type Actor } from '../audit/log-action';
import { prepared, queryPrepared, type PreparedStatement } from '../db/prepared-query';
import { KassaError } from '../errors';
import type { OutboxTopic } from '../outbox/emit-event';
import { OrderPayment } from '../payment/order-payment.entity';
import { paymentMachine, type PaymentEvent } from '../payment/payment.machine';
import { OrderRefund } from '../refund/order-refund.entity';
import { refundMachine, type RefundEvent } from '../refund/refund.machine';
import { Order } from './order.entity';
import { orderMachine, type OrderEvent } from './order.machine';

/*
 * The write primitives every service uses inside `withTransaction`: row locks, compare-and-set
 * state changes computed by the machines, per-order local ids, and the audit + outbox pair.
 * Lock order is always order → payment → refund → quota, so two services never deadlock.
 */

/** Locks the order row (SELECT … FOR UPDATE); NOT_FOUND when it does not exist. */
export async function lockOrder(tx: EntityManager, orderId: string): Promise<Order> {
  return lockRow(tx, Order, orderId, 'Order');
}

export async function lockPayment(tx: EntityManager, paymentId: string): Promise<OrderPayment> {
  return lockRow(tx, OrderPayment, paymentId, 'Payment');
}

/** What `record` needs to know about the order a row belongs to. */
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
  return { payment, order: { id: payment.orderId, organizerId: String(row.order_organizer_id), eventId: String(row.order_event_id), code: String(row.order_code) } };
}

/**
 * The entity's columns as an explicit SELECT/RETURNING list (`alias.col, …`), for prepared
 * statements, which must not use `*` (see prepared-query.ts). Computed once per entity.
 */
export function columnList<T extends ObjectLiteral>(tx: EntityManager, target: EntityTarget<T>, alias?: string): string {
  const meta = tx.connection.getMetadata(target);
  const key = `${meta.tableName}\u0000${alias ?? ''}`;
  let list = columnLists.get(key);
  if (list === undefined) {
    list = meta.columns.map((c) => (alias ? `${alias}.${c.databaseName}` : c.databaseName)).join(', ');
    columnLists.set(key, list);
  }
  return list;
}
const columnLists = new Map<string, string>();

/** `alias.col AS prefixcol, …` (or `col AS prefixcol` without alias) for every column of the entity: several entities in one row. */
export function prefixedColumns<T extends ObjectLiteral>(tx: EntityManager, target: EntityTarget<T>, prefix: string, alias?: string): string {
  return tx.connection.getMetadata(target).columns
    .map((c) => `${alias ? `${alias}.` : ''}${c.databaseName} AS ${prefix}${c.databaseName}`).join(', ');
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

export async function lockRefund(tx: EntityManager, refundId: string): Promise<OrderRefund> {
  return lockRow(tx, OrderRefund, refundId, 'Refund');
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

/** Moves the order along `event`: the machine computes the target, the write is compare-and-set. */
export async function moveOrder(tx: EntityManager, order: Order, event: OrderEvent, set: Partial<Order> = {}): Promise<void> {
  const to = orderMachine.transition(order.status, event);
  await compareAndSet(tx, Order, 'status', orderMachine.name, order.id, order.status, { ...set, status: to });
  Object.assign(order, set, { status: to });
}

export async function movePayment(tx: EntityManager, payment: OrderPayment, event: PaymentEvent, set: Partial<OrderPayment> = {}): Promise<void> {
  const to = paymentMachine.transition(payment.state, event);
  await compareAndSet(tx, OrderPayment, 'state', paymentMachine.name, payment.id, payment.state, { ...set, state: to });
  Object.assign(payment, set, { state: to });
}

export async function moveRefund(tx: EntityManager, refund: OrderRefund, event: RefundEvent, set: Partial<OrderRefund> = {}): Promise<void> {
  const to = refundMachine.transition(refund.state, event);
  await compareAndSet(tx, OrderRefund, 'state', refundMachine.name, refund.id, refund.state, { ...set, state: to });
  Object.assign(refund, set, { state: to });
}

/** UPDATE … SET state = $to WHERE id = $id AND state = $from; 0 rows → STATE_CONFLICT. */
async function compareAndSet<T extends ObjectLiteral>(
  tx: EntityManager, entity: EntityTarget<T>, column: 'status' | 'state', machine: string, id: string, from: string, set: Partial<T>,
): Promise<void> {
  const result = await tx.createQueryBuilder().update(entity).set(set as never)
    .where(`id = :id AND ${column} = :from`, { id, from }).execute();
  if (result.affected !== 1) throw new KassaError('STATE_CONFLICT', { machine, id, expected: from });
}

/*
 * The compare-and-set of an order's status chained with its audit entry and outbox event in one
 * statement: on the hot paths (confirmPayment marking the order paid) each round trip counts.
 * The log and outbox columns are those of `record`; a change there must be mirrored here.
 */
const moveOrderRecordedSql: PreparedStatement = prepared('move_order_recorded', `WITH u AS (
    UPDATE kassa_order SET status = $2, updated_at = now() WHERE id = $1 AND status = $3 RETURNING id),
  entry AS (
    INSERT INTO log_entry (organizer_id, event_id, order_id, object_type, object_id, action, actor_type, actor_id, data)
    SELECT $4::uuid, $5::uuid, u.id, 'order', u.id, $6::text, $7::text, $8::text, $9::jsonb FROM u)
  INSERT INTO outbox_event (topic, organizer_id, order_id, payload)
  SELECT $10::text, $4::uuid, u.id, $11::jsonb FROM u
  RETURNING order_id`);

/**
 * moveOrder + record for an order-level change with an outbox event, in one round trip (prepared).
 * STATE_CONFLICT when the status moved since it was read, and then nothing is written.
 */
export async function moveOrderRecorded(
  tx: EntityManager, order: Order, event: OrderEvent, input: Omit<RecordInput, 'order' | 'objectType' | 'objectId'> & { topic: OutboxTopic },
): Promise<void> {
  const to = orderMachine.transition(order.status, event);
  const payload = { orderId: order.id, code: order.code, ...input.payload };
  const rows = await queryPrepared(tx, moveOrderRecordedSql, [
    order.id, to, order.status, order.organizerId, order.eventId, input.action, input.actor.type, input.actor.id ?? null,
    JSON.stringify(input.data ?? {}), input.topic, JSON.stringify(payload),
  ]);
  if (rows.length !== 1) throw new KassaError('STATE_CONFLICT', { machine: orderMachine.name, id: order.id, expected: order.status });
  order.status = to;
}

/** max(local_id) + 1 for the order; call only while holding the order row lock. */
export async function nextLocalId(tx: EntityManager, table: 'order_payment' | 'order_refund', orderId: string): Promise<number> {
  const [row] = await tx.query(`SELECT coalesce(max(local_id), 0) + 1 AS n FROM ${table} WHERE order_id = $1`, [orderId]);
  return Number(row.n);
}

export interface RecordInput {
  order: Pick<Order, 'id' | 'organizerId' | 'eventId' | 'code'>;
  objectType: 'order' | 'payment' | 'refund';
  objectId: string;
  /** Audit action, e.g. "kassa.order.payment.confirmed". */
  action: string;
  actor: Actor;
  data?: Record<string, unknown>;
  /** Outbox topic; omitted for log-only entries. */
  topic?: OutboxTopic;
  payload?: Record<string, unknown>;
}

/**
 * The audit entry and (optionally) the outbox event for one change, in the caller's transaction.
 * With an event, both rows go in one statement: this runs on every state change, and on a
 * 2-core machine each round trip counts (confirmPayment writes two pairs). The columns are those
 * logAction and emitEvent write; a change to either table must be mirrored here.
 */
export async function record(tx: EntityManager, input: RecordInput): Promise<void> {
  const { order } = input;
  if (!input.topic) {
    await logAction(tx, {
      organizerId: order.organizerId, eventId: order.eventId, orderId: order.id,
      objectType: input.objectType, objectId: input.objectId, action: input.action, actor: input.actor, data: input.data,
    });
    return;
  }
  const payload = { orderId: order.id, code: order.code, [`${input.objectType}Id`]: input.objectId, ...input.payload };
  await tx.query(
    `WITH entry AS (
       INSERT INTO log_entry (organizer_id, event_id, order_id, object_type, object_id, action, actor_type, actor_id, data)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb))
     INSERT INTO outbox_event (topic, organizer_id, order_id, payload) VALUES ($10, $1, $3, $11::jsonb)`,
    [
      order.organizerId, order.eventId, order.id, input.objectType, input.objectId, input.action, input.actor.type,
      input.actor.id ?? null, JSON.stringify(input.data ?? {}), input.topic, JSON.stringify(payload),
    ],
  );
}
