import type { DataSource } from 'typeorm';
import { paymentMachine } from '../payment/payment.machine';
import { refundMachine } from '../refund/refund.machine';
import { orderSumsJoins, orderSumsSql } from './order-sums';

/*
 * The rows of the accountants' exports (orders, payments, refunds of one event or of all the
 * organizer's events), read a page of orders at a time (keyset pagination on created_at, id), so an
 * export of any size holds one page in memory. Amounts stay integers in minor units here; the
 * writer formats them.
 *
 * Why pages and not one server-side cursor: a cursor keeps its connection inside an open
 * (implicit) transaction until it is closed, and the export writes its file and progress on other
 * connections meanwhile. On the embedded database (PGlite, one backend shared by all connections)
 * that connection would hold the database for the whole export and the writes would wait for it
 * for ever (see db/embedded/session-server.ts); on PostgreSQL it would hold back vacuum for as long.
 * Each page is one short statement instead, and only its rows' sums are computed.
 */

export type ExportDataset = 'orders' | 'payments' | 'refunds';
export const exportDatasets: readonly ExportDataset[] = ['orders', 'payments', 'refunds'];

/** Whose rows: the organizer's, of one event when `eventId` is set. */
export interface ExportScope {
  organizerId: string;
  eventId?: string | null;
}

export interface OrderExportRow {
  code: string; eventSlug: string; createdAt: Date; expires: Date; cancellationDate: Date | null; status: string; email: string | null;
  currency: string; total: number; fees: number; paid: number; refunded: number; pendingSum: number;
  providers: string; lastPaymentDate: Date | null; testmode: boolean; shredded: boolean;
}

export interface PaymentExportRow {
  orderCode: string; eventSlug: string; localId: number; createdAt: Date; paymentDate: Date | null; provider: string; state: string;
  currency: string; amount: number; refunded: number; info: Record<string, unknown>; orderEmail: string | null;
}

export interface RefundExportRow {
  orderCode: string; eventSlug: string; localId: number; paymentLocalId: number | null; createdAt: Date; executionDate: Date | null;
  provider: string; source: string; state: string; currency: string; amount: number; externalId: string | null; comment: string; orderEmail: string | null;
}

export interface ExportRowTypes { orders: OrderExportRow; payments: PaymentExportRow; refunds: RefundExportRow }

const where = (alias: string) => `${alias}.organizer_id = $1 AND ($2::uuid IS NULL OR ${alias}.event_id = $2)`;

/**
 * The next page of the scope's orders after the key (created_at as text keeps its microseconds).
 * Two statements, not one with `$2 IS NULL OR …`, so each reads its own index range.
 */
const pageSql = (byEvent: boolean) => `
  SELECT o.id, o.created_at::text AS k FROM kassa_order o
   WHERE o.organizer_id = $1 AND ${byEvent ? 'o.event_id = $2' : '$2::uuid IS NULL'}
     AND ($3::text IS NULL OR (o.created_at, o.id) > ($3::timestamptz, $4::uuid))
   ORDER BY o.created_at, o.id LIMIT $5`;
const pageOfOrganizer = pageSql(false);
const pageOfEvent = pageSql(true);

const sql: Record<ExportDataset, string> = {
  orders: `
    SELECT o.code, e.slug AS "eventSlug", o.created_at AS "createdAt", o.expires, o.cancellation_date AS "cancellationDate",
           o.status, o.email, o.currency, o.total::text AS total,
           (SELECT coalesce(sum(f.value), 0) FROM order_fee f WHERE f.order_id = o.id AND NOT f.canceled)::text AS fees,
           ps.paid::text AS paid, rs.refunded::text AS refunded, ${orderSumsSql.pendingSum}::text AS "pendingSum",
           (SELECT coalesce(string_agg(DISTINCT p.provider, ' ' ORDER BY p.provider), '') FROM order_payment p
             WHERE p.order_id = o.id AND ${paymentMachine.sqlIn('counting', 'p.state')}) AS providers,
           (SELECT max(p.payment_date) FROM order_payment p WHERE p.order_id = o.id AND ${paymentMachine.sqlIn('counting', 'p.state')}) AS "lastPaymentDate",
           o.testmode, o.shredded_at IS NOT NULL AS shredded
      FROM kassa_order o JOIN event e ON e.id = o.event_id ${orderSumsJoins}
     WHERE o.id = ANY($1::uuid[])
     ORDER BY o.created_at, o.id`,
  payments: `
    SELECT o.code AS "orderCode", e.slug AS "eventSlug", p.local_id AS "localId", p.created_at AS "createdAt", p.payment_date AS "paymentDate",
           p.provider, p.state, p.currency, p.amount::text AS amount,
           (SELECT coalesce(sum(r.amount), 0) FROM order_refund r WHERE r.payment_id = p.id AND ${refundMachine.sqlIn('counting', 'r.state')})::text AS refunded,
           p.info, o.email AS "orderEmail"
      FROM order_payment p JOIN kassa_order o ON o.id = p.order_id JOIN event e ON e.id = o.event_id
     WHERE o.id = ANY($1::uuid[])
     ORDER BY o.created_at, o.id, p.local_id`,
  refunds: `
    SELECT o.code AS "orderCode", e.slug AS "eventSlug", r.local_id AS "localId", p.local_id AS "paymentLocalId", r.created_at AS "createdAt",
           r.execution_date AS "executionDate", r.provider, r.source, r.state, r.currency, r.amount::text AS amount,
           r.external_id AS "externalId", r.comment, o.email AS "orderEmail"
      FROM order_refund r JOIN kassa_order o ON o.id = r.order_id JOIN event e ON e.id = o.event_id
      LEFT JOIN order_payment p ON p.id = r.payment_id
     WHERE o.id = ANY($1::uuid[])
     ORDER BY o.created_at, o.id, r.local_id`,
};

const countSql: Record<ExportDataset, string> = {
  orders: `SELECT count(*)::int AS n FROM kassa_order o WHERE ${where('o')}`,
  payments: `SELECT count(*)::int AS n FROM order_payment p JOIN kassa_order o ON o.id = p.order_id WHERE ${where('o')}`,
  refunds: `SELECT count(*)::int AS n FROM order_refund r JOIN kassa_order o ON o.id = r.order_id WHERE ${where('o')}`,
};

const moneyColumns: Record<ExportDataset, readonly string[]> = {
  orders: ['total', 'fees', 'paid', 'refunded', 'pendingSum'],
  payments: ['amount', 'refunded'],
  refunds: ['amount'],
};

/** How many rows the export will have (the job's progress total). */
export async function countExportRows(ds: DataSource, dataset: ExportDataset, scope: ExportScope): Promise<number> {
  const rows: { n: number }[] = await ds.query(countSql[dataset], [scope.organizerId, scope.eventId ?? null]);
  return rows[0]?.n ?? 0;
}

/**
 * The export's rows, page by page: the rows of the next `ordersPerPage` orders of the scope (in
 * order of placement) each time, until none are left. Rows placed after the export started are
 * included when they sort after the page being read; every order appears once.
 */
export async function* streamExportRows<D extends ExportDataset>(
  ds: DataSource, dataset: D, scope: ExportScope, ordersPerPage = 500,
): AsyncGenerator<ExportRowTypes[D][]> {
  let after: { k: string; id: string } | null = null;
  for (;;) {
    const page: { id: string; k: string }[] = await ds.query(scope.eventId ? pageOfEvent : pageOfOrganizer, [scope.organizerId, scope.eventId ?? null, after?.k ?? null, after?.id ?? null, ordersPerPage]);
    if (page.length === 0) return;
    after = page[page.length - 1]!;
    const rows: Record<string, unknown>[] = await ds.query(sql[dataset], [page.map((p) => p.id)]);
    for (const row of rows) {
      // bigint sums arrive as text; every amount fits a safe integer (money-limits migration).
      for (const c of moneyColumns[dataset]) row[c] = Number(row[c]);
      if ('currency' in row) row.currency = String(row.currency).trim();
    }
    if (rows.length > 0) yield rows as unknown as ExportRowTypes[D][];
  }
}
