import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { KassaError } from '../errors';
import { Order } from '../order/order.entity';
import { orderMachine, type OrderEvent, type OrderStatus } from '../order/order.machine';
import { OrderPayment } from '../payment/order-payment.entity';
import { paymentMachine, type PaymentEvent, type PaymentState } from '../payment/payment.machine';
import { OrderRefund } from '../refund/order-refund.entity';
import { refundMachine, type RefundEvent, type RefundState } from '../refund/refund.machine';
import type { EdgeEffects, Machine } from '../state-machine';
import {
  logInsertCte, outboxInsert, outboxInsertCte, sqlText, writeLogAndEvent, type ActorRef, type LogValues, type OutboxValues,
} from './audit-outbox';
import { prepared, queryPrepared } from './prepared-query';
import type { OrderRef } from './rows';

/*
 * The state-change builder: a change of an order's, payment's or refund's state is a
 * compare-and-set (`UPDATE … WHERE id = $1 AND state = $2`) computed by the machine, written in
 * ONE statement with the audit entry and the outbox event that the machine's edge declares
 * (`log`, `topic`). The statement is composed from stateChangeCte, logInsertCte and
 * outboxInsertCte, the same fragments the batched hot paths embed.
 */

/** The three stateful tables and how the builder writes them. */
interface StateTable<S extends string, E extends string, T extends ObjectLiteral> {
  machine: Machine<S, E>;
  entity: EntityTarget<T>;
  table: string;
  column: 'status' | 'state';
  objectType: 'order' | 'payment' | 'refund';
  /** Columns set on every write (the order's updated_at, which TypeORM's UpdateDateColumn set before). */
  touch?: string;
}

const orders: StateTable<OrderStatus, OrderEvent, Order> = {
  machine: orderMachine, entity: Order, table: 'kassa_order', column: 'status', objectType: 'order', touch: 'updated_at = now()',
};
const payments: StateTable<PaymentState, PaymentEvent, OrderPayment> = {
  machine: paymentMachine, entity: OrderPayment, table: 'order_payment', column: 'state', objectType: 'payment',
};
const refunds: StateTable<RefundState, RefundEvent, OrderRefund> = {
  machine: refundMachine, entity: OrderRefund, table: 'order_refund', column: 'state', objectType: 'refund',
};

/** The pieces of a compare-and-set UPDATE; every value is a SQL expression. */
export interface StateChangeSql {
  table: string;
  column: 'status' | 'state';
  /** The new state. */
  to: string;
  /** Predicate on the current state, e.g. `status = $3` or `state = ANY($5::text[])`. */
  from: string;
  /** The row, e.g. `id = $1`. */
  where: string;
  /** Further `col = expr` assignments. */
  set?: readonly string[];
  returning: string;
  /** Table alias inside the UPDATE. */
  alias?: string;
  /** A FROM list for the UPDATE (joins used by `where`). */
  using?: string;
}

/** `name AS (UPDATE … SET state = to WHERE … AND state-predicate RETURNING …)`: the compare-and-set of a change. */
export function stateChangeCte(name: string, c: StateChangeSql): string {
  const a = c.alias ? `${c.alias}.` : '';
  const assignments = [`${c.column} = ${c.to}`, ...(c.set ?? [])].join(', ');
  return `${name} AS (
      UPDATE ${c.table}${c.alias ? ` ${c.alias}` : ''} SET ${assignments}${c.using ? ` FROM ${c.using}` : ''}
       WHERE ${c.where} AND ${a}${c.from}
      RETURNING ${c.returning})`;
}

/**
 * The log action and topic of an edge that a statement composes in (the hot paths, the expiry
 * batch): checked when the module loads, so a table without them fails at start, not mid-write.
 */
export function edgeEffects<S extends string, E extends string>(machine: Machine<S, E>, from: S, event: E): { log: string; topic: string } {
  const { log, topic } = machine.effectsOf(from, event);
  if (!log || !topic) throw new Error(`${machine.name}: edge ${from} -${event}-> must declare log and topic`);
  return { log, topic };
}

/** What a change writes besides its state. */
export interface ChangeRecord {
  actor: ActorRef;
  /** The audit entry's data. */
  data?: Record<string, unknown>;
  /** Added to the event's payload (which always carries orderId, code and the object's id). */
  payload?: Record<string, unknown>;
}

/**
 * Moves the order along `event` and writes the edge's audit entry and outbox event, in one
 * statement. STATE_CONFLICT when the status moved since it was read, and then nothing is written.
 */
export async function changeOrder(tx: EntityManager, order: Order, event: OrderEvent, rec: ChangeRecord, set: Partial<Order> = {}): Promise<void> {
  await change(tx, orders, order, order, event, rec, set);
}

/** Moves the payment along `event` with the edge's entry and event (see changeOrder). */
export async function changePayment(
  tx: EntityManager, order: OrderRef, payment: OrderPayment, event: PaymentEvent, rec: ChangeRecord, set: Partial<OrderPayment> = {},
): Promise<void> {
  await change(tx, payments, order, payment, event, rec, set);
}

/** Moves the refund along `event` with the edge's entry and event (see changeOrder). */
export async function changeRefund(
  tx: EntityManager, order: OrderRef, refund: OrderRefund, event: RefundEvent, rec: ChangeRecord, set: Partial<OrderRefund> = {},
): Promise<void> {
  await change(tx, refunds, order, refund, event, rec, set);
}

/** Moves the order along `event` (compare-and-set) without an entry of its own: a step inside a change recorded otherwise. */
export async function moveOrder(tx: EntityManager, order: Order, event: OrderEvent, set: Partial<Order> = {}): Promise<void> {
  await change(tx, orders, order, order, event, null, set);
}

/** Moves the payment along `event` without an entry of its own. */
export async function movePayment(tx: EntityManager, payment: OrderPayment, event: PaymentEvent, set: Partial<OrderPayment> = {}): Promise<void> {
  await change(tx, payments, null, payment, event, null, set);
}

/** Moves the refund along `event` without an entry of its own. */
export async function moveRefund(tx: EntityManager, refund: OrderRefund, event: RefundEvent, set: Partial<OrderRefund> = {}): Promise<void> {
  await change(tx, refunds, null, refund, event, null, set);
}

type Stateful = { id: string } & ({ status: string } | { state: string });

async function change<S extends string, E extends string, T extends ObjectLiteral & Stateful>(
  tx: EntityManager, t: StateTable<S, E, T>, order: OrderRef | null, row: T, event: E, rec: ChangeRecord | null, set: Partial<T>,
): Promise<void> {
  const from = (row as Record<string, unknown>)[t.column] as S;
  const { to, effects } = t.machine.transition(from, event);
  const meta = tx.connection.getMetadata(t.entity);
  const values: unknown[] = [row.id, from, to];
  const assignments: string[] = [];
  for (const [prop, value] of Object.entries(set)) {
    if (prop === t.column || value === undefined) continue;
    const col = meta.findColumnWithPropertyName(prop);
    if (!col) throw new Error(`${meta.tableName}: no column for ${prop}`);
    values.push(tx.connection.driver.preparePersistentValue(value, col));
    assignments.push(`${col.databaseName} = $${values.length}`);
  }
  if (t.touch) assignments.push(t.touch);
  const ctes = [stateChangeCte('u', {
    table: t.table, column: t.column, to: '$3', from: `${t.column} = $2`, where: 'id = $1', set: assignments, returning: 'id',
  })];
  if (rec && order) ctes.push(...recordCtes(t.objectType, order, row.id, effects, rec, values));
  const rows: unknown[] = await tx.query(`WITH ${ctes.join(',\n    ')}\n    SELECT id FROM u`, values);
  if (rows.length !== 1) throw new KassaError('STATE_CONFLICT', { machine: t.machine.name, id: row.id, expected: from });
  Object.assign(row, set, { [t.column]: to });
}

/** The entry and event CTEs of a change (over the row `u`), with their parameters appended to `values`. */
function recordCtes(
  objectType: 'order' | 'payment' | 'refund', order: OrderRef, objectId: string, effects: EdgeEffects, rec: ChangeRecord, values: unknown[],
): string[] {
  const param = (value: unknown, cast: string) => {
    values.push(value);
    return `$${values.length}::${cast}`;
  };
  const organizerId = param(order.organizerId, 'uuid');
  const orderId = param(order.id, 'uuid');
  const ctes: string[] = [];
  if (effects.log) {
    const log: LogValues = {
      organizerId, eventId: param(order.eventId, 'uuid'), orderId, objectType: sqlText(objectType), objectId: 'u.id::text',
      action: sqlText(effects.log), actorType: param(rec.actor.type, 'text'), actorId: param(rec.actor.id ?? null, 'text'),
      data: param(JSON.stringify(rec.data ?? {}), 'jsonb'),
    };
    ctes.push(logInsertCte('entry', log, 'u'));
  }
  if (effects.topic) {
    const payload = { orderId: order.id, code: order.code, [`${objectType}Id`]: objectId, ...rec.payload };
    const event: OutboxValues = { topic: sqlText(effects.topic), organizerId, orderId, payload: param(JSON.stringify(payload), 'jsonb') };
    ctes.push(outboxInsertCte('ev', event, 'u'));
  }
  return ctes;
}

/*
 * The order → paid step of confirmPayment as a prepared statement: on the hot path each parse and
 * round trip counts. Composed from the same fragments; the action and topic are the edge's,
 * passed as parameters.
 */
const moveOrderRecordedSql = prepared('move_order_recorded', () => `WITH ${[
  stateChangeCte('u', { table: 'kassa_order', column: 'status', to: '$2', from: 'status = $3', where: 'id = $1', set: ['updated_at = now()'], returning: 'id' }),
  logInsertCte('entry', {
    organizerId: '$4::uuid', eventId: '$5::uuid', orderId: 'u.id', objectType: sqlText('order'), objectId: 'u.id',
    action: '$6::text', actorType: '$7::text', actorId: '$8::text', data: '$9::jsonb',
  }, 'u'),
].join(',\n  ')}
  ${outboxInsert({ topic: '$10::text', organizerId: '$4::uuid', orderId: 'u.id', payload: '$11::jsonb' }, 'u')}
  RETURNING order_id`);

/**
 * changeOrder as one prepared round trip, for the order → paid step of confirmPayment.
 * STATE_CONFLICT when the status moved since it was read, and then nothing is written.
 */
export async function changeOrderPrepared(tx: EntityManager, order: Order, event: OrderEvent, rec: ChangeRecord): Promise<void> {
  const { to, effects } = orderMachine.transition(order.status, event);
  const payload = { orderId: order.id, code: order.code, ...rec.payload };
  const rows = await queryPrepared(tx, moveOrderRecordedSql, [
    order.id, to, order.status, order.organizerId, order.eventId, effects.log, rec.actor.type, rec.actor.id ?? null,
    JSON.stringify(rec.data ?? {}), effects.topic, JSON.stringify(payload),
  ]);
  if (rows.length !== 1) throw new KassaError('STATE_CONFLICT', { machine: orderMachine.name, id: order.id, expected: order.status });
  order.status = to;
}

/** An audit entry (and optionally an event) for a change that is no state edge: an amount changed, a note, an overpayment. */
export interface RecordInput {
  order: OrderRef;
  objectType: 'order' | 'payment' | 'refund';
  objectId: string;
  /** Audit action, e.g. "kassa.order.payment.amount_changed". */
  action: string;
  actor: ActorRef;
  data?: Record<string, unknown>;
  /** Outbox topic; omitted for log-only entries. */
  topic?: string;
  payload?: Record<string, unknown>;
}

/**
 * The audit entry and (optionally) the outbox event for a change that is not a state edge, in the
 * caller's transaction and in one statement. State changes go through changeOrder/changePayment/
 * changeRefund, which take the action and topic from the machine.
 */
export async function record(tx: EntityManager, input: RecordInput): Promise<void> {
  const { order } = input;
  await writeLogAndEvent(tx, {
    organizerId: order.organizerId, eventId: order.eventId, orderId: order.id,
    objectType: input.objectType, objectId: input.objectId, action: input.action, actor: input.actor, data: input.data,
  }, input.topic ? {
    topic: input.topic, organizerId: order.organizerId, orderId: order.id,
    payload: { orderId: order.id, code: order.code, [`${input.objectType}Id`]: input.objectId, ...input.payload },
  } : undefined);
}
