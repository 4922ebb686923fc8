import type { EntityManager } from 'typeorm';

/*
 * The one implementation of the audit log + outbox insert. Every write path composes these
 * fragments: the value API below (writeLog, writeChangeRecord) for ordinary transactions, and the
 * batched hot paths (placement batch, payment confirmation, execute rows, the order paid step)
 * embed logInsertCte/outboxInsertCte in their single statements. The column lists live here only.
 */

/** log_entry's written columns, in the order a LogValues fills them. */
const logColumns = ['organizer_id', 'event_id', 'order_id', 'object_type', 'object_id', 'action', 'actor_type', 'actor_id', 'data'] as const;
/** outbox_event's written columns, in the order an OutboxValues fills them. */
const outboxColumns = ['topic', 'organizer_id', 'order_id', 'payload'] as const;

/** One SQL expression per log_entry column (parameters, columns of a CTE, literals). */
export interface LogValues {
  organizerId: string;
  eventId: string;
  orderId: string;
  objectType: string;
  objectId: string;
  action: string;
  actorType: string;
  actorId: string;
  data: string;
}

/** One SQL expression per outbox_event column. */
export interface OutboxValues {
  topic: string;
  organizerId: string;
  orderId: string;
  payload: string;
}

/** A SQL string literal (for actions and topics taken from the machine tables, which are validated names). */
export function sqlText(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** `INSERT INTO log_entry (…) SELECT …[ FROM from]`: one row per row of `from` (or one row without it). */
export function logInsert(v: LogValues, from?: string): string {
  const values = [v.organizerId, v.eventId, v.orderId, v.objectType, v.objectId, v.action, v.actorType, v.actorId, v.data];
  return `INSERT INTO log_entry (${logColumns.join(', ')}) SELECT ${values.join(', ')}${from ? ` FROM ${from}` : ''}`;
}

/** `INSERT INTO outbox_event (…) SELECT …[ FROM from]`. */
export function outboxInsert(v: OutboxValues, from?: string): string {
  const values = [v.topic, v.organizerId, v.orderId, v.payload];
  return `INSERT INTO outbox_event (${outboxColumns.join(', ')}) SELECT ${values.join(', ')}${from ? ` FROM ${from}` : ''}`;
}

/** `name AS (INSERT INTO log_entry …)`, a CTE for a statement that writes a change with its entry. */
export function logInsertCte(name: string, v: LogValues, from?: string): string {
  return `${name} AS (\n      ${logInsert(v, from)})`;
}

/** `name AS (INSERT INTO outbox_event …)`, a CTE for a statement that writes a change with its event. */
export function outboxInsertCte(name: string, v: OutboxValues, from?: string): string {
  return `${name} AS (\n      ${outboxInsert(v, from)})`;
}

/** Who did it: written to the entry's actor columns. */
export interface ActorRef {
  type: string;
  id?: string | null;
}

/** An audit entry as values. */
export interface LogEntryInput {
  organizerId?: string | null;
  eventId?: string | null;
  orderId?: string | null;
  objectType: string;
  objectId: string;
  action: string;
  actor: ActorRef;
  data?: Record<string, unknown>;
}

/** An outbox event as values. */
export interface OutboxEventInput {
  topic: string;
  organizerId?: string | null;
  orderId?: string | null;
  payload?: Record<string, unknown>;
}

const logParams: LogValues = {
  organizerId: '$1::uuid', eventId: '$2::uuid', orderId: '$3::uuid', objectType: '$4::text', objectId: '$5::text',
  action: '$6::text', actorType: '$7::text', actorId: '$8::text', data: '$9::jsonb',
};
const logOnlySql = logInsert(logParams);
const logAndEventSql = `WITH ${logInsertCte('entry', logParams)}\n    ${outboxInsert({ topic: '$10::text', organizerId: '$11::uuid', orderId: '$12::uuid', payload: '$13::jsonb' })}`;
const eventOnlySql = outboxInsert({ topic: '$1::text', organizerId: '$2::uuid', orderId: '$3::uuid', payload: '$4::jsonb' });

function logValues(e: LogEntryInput): unknown[] {
  return [
    e.organizerId ?? null, e.eventId ?? null, e.orderId ?? null, e.objectType, e.objectId, e.action, e.actor.type,
    e.actor.id ?? null, JSON.stringify(e.data ?? {}),
  ];
}

function eventValues(e: OutboxEventInput): unknown[] {
  return [e.topic, e.organizerId ?? null, e.orderId ?? null, JSON.stringify(e.payload ?? {})];
}

/**
 * Writes an audit entry and, when given, its outbox event with the caller's transaction, in one
 * statement: committed together with the change, or not at all.
 */
export async function writeLogAndEvent(tx: EntityManager, entry: LogEntryInput, event?: OutboxEventInput): Promise<void> {
  if (!event) await tx.query(logOnlySql, logValues(entry));
  else await tx.query(logAndEventSql, [...logValues(entry), ...eventValues(event)]);
}

/** Writes an outbox event alone with the caller's transaction. */
export async function writeEvent(tx: EntityManager, event: OutboxEventInput): Promise<void> {
  await tx.query(eventOnlySql, eventValues(event));
}
