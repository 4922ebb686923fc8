// Which organizer a job concerns, read from our own rows (the failed-jobs list shows a job only to
// its organizer). Each function maps the given ids to their organizer id, or null for an
// instance-wide row; ids without a row are left out.
import type { EntityManager } from 'typeorm';

type Db = Pick<EntityManager, 'query'>;


/** By email_message.id. */
export async function organizersOfEmails(db: Db, emailIds: readonly string[]): Promise<Map<string, string | null>> {
  if (emailIds.length === 0) return new Map();
  const rows: { id: string; organizer: string | null }[] = await db.query(
    'SELECT id::text AS id, organizer_id::text AS organizer FROM email_message WHERE id::text = ANY($1::text[])', [emailIds]);
  return new Map(rows.map((r) => [r.id, r.organizer]));
}

/** By outbox_event.id (digits only): the event's organizer, or its order's. */
export async function organizersOfOutboxEvents(db: Db, eventIds: readonly string[]): Promise<Map<string, string | null>> {
  if (eventIds.length === 0) return new Map();
  const rows: { id: string; organizer: string | null }[] = await db.query(
    `SELECT e.id::text AS id, COALESCE(e.organizer_id, o.organizer_id)::text AS organizer
       FROM outbox_event e LEFT JOIN kassa_order o ON o.id = e.order_id WHERE e.id = ANY($1::bigint[])`, [eventIds]);
  return new Map(rows.map((r) => [r.id, r.organizer]));
}

/** By kassa_order.id. */
export async function organizersOfOrders(db: Db, orderIds: readonly string[]): Promise<Map<string, string | null>> {
  if (orderIds.length === 0) return new Map();
  const rows: { id: string; organizer: string }[] = await db.query(
    'SELECT id::text AS id, organizer_id::text AS organizer FROM kassa_order WHERE id::text = ANY($1::text[])', [orderIds]);
  return new Map(rows.map((r) => [r.id, r.organizer]));
}
