import type { DataSource } from 'typeorm';

/*
 * What the data shredder (pretix's) would remove from one order or from every order of an event,
 * counted before anything is removed, and the orders a shred job walks through. Orders already
 * shredded are left out: shredding them again removes nothing.
 */

/** Whose orders: one order, or every order of one event; always of the organizer. */
export interface ShredScope {
  organizerId: string;
  eventId?: string | null;
  orderId?: string | null;
}

/** The counts the confirmation page shows. */
export interface ShredPreview {
  /** Orders that still hold personal data. */
  orders: number;
  /** Of them, orders with a buyer e-mail. */
  emails: number;
  /** Positions with an attendee name. */
  attendeeNames: number;
  /** Payments and refunds whose provider info is reduced to what the provider keeps. */
  payments: number;
  refunds: number;
  /** Orders shredded before (left as they are). */
  alreadyShredded: number;
}

const scoped = `o.organizer_id = $1 AND ($2::uuid IS NULL OR o.event_id = $2) AND ($3::uuid IS NULL OR o.id = $3)`;

/** Counts what a shred of the scope would remove. */
export async function shredPreview(ds: DataSource, scope: ShredScope): Promise<ShredPreview> {
  const rows: Record<string, number>[] = await ds.query(`
    SELECT count(*) FILTER (WHERE o.shredded_at IS NULL)::int AS orders,
           count(*) FILTER (WHERE o.shredded_at IS NULL AND o.email IS NOT NULL)::int AS emails,
           coalesce(sum((SELECT count(*) FROM order_position x WHERE x.order_id = o.id AND x.attendee_name IS NOT NULL)) FILTER (WHERE o.shredded_at IS NULL), 0)::int AS "attendeeNames",
           coalesce(sum((SELECT count(*) FROM order_payment x WHERE x.order_id = o.id)) FILTER (WHERE o.shredded_at IS NULL), 0)::int AS payments,
           coalesce(sum((SELECT count(*) FROM order_refund x WHERE x.order_id = o.id)) FILTER (WHERE o.shredded_at IS NULL), 0)::int AS refunds,
           count(*) FILTER (WHERE o.shredded_at IS NOT NULL)::int AS "alreadyShredded"
      FROM kassa_order o WHERE ${scoped}`, params(scope));
  const r = rows[0]!;
  return { orders: r.orders!, emails: r.emails!, attendeeNames: r.attendeeNames!, payments: r.payments!, refunds: r.refunds!, alreadyShredded: r.alreadyShredded! };
}

/**
 * The next `limit` orders of the scope still to shred, after `afterId` (keyset order by id), so a
 * job walks any number of orders in bounded memory and a retried job resumes where it stopped.
 */
export async function ordersToShred(ds: DataSource, scope: ShredScope, afterId: string | null, limit = 200): Promise<string[]> {
  const rows: { id: string }[] = await ds.query(
    `SELECT o.id FROM kassa_order o WHERE ${scoped} AND o.shredded_at IS NULL AND ($4::uuid IS NULL OR o.id > $4) ORDER BY o.id LIMIT $5`,
    [...params(scope), afterId, limit],
  );
  return rows.map((r) => r.id);
}

function params(scope: ShredScope): (string | null)[] {
  return [scope.organizerId, scope.eventId ?? null, scope.orderId ?? null];
}
