import type { EntityManager } from 'typeorm';
import { KassaError } from '../errors';
import { orderStates, type OrderStatus } from '../order/order.machine';
import { orderSumsColumns, orderSumsJoins, orderSumsSql, toOrderSums, type OrderSums } from './order-sums';

/** Filters for the control panel's order list. Flags filter on the same SQL as getSummary. */
export interface OrderSearchQuery {
  organizerId: string;
  eventId?: string;
  /** Only orders of these events (a team limited to chosen events); undefined: every event. */
  eventIds?: readonly string[];
  status?: OrderStatus;
  /** Orders with at least one payment through this provider. */
  provider?: string;
  overpaid?: boolean;
  underpaid?: boolean;
  pendingWithFullPayment?: boolean;
  pendingRefund?: boolean;
  externalRefund?: boolean;
  /** Matches the order code (prefix) or the e-mail (substring), case-insensitively. */
  q?: string;
  /** 1-based. */
  page?: number;
  pageSize?: number;
}

export interface OrderListRow extends OrderSums {
  email: string | null;
  eventId: string;
  expires: Date;
  createdAt: Date;
}

export interface OrderSearchResult {
  items: OrderListRow[];
  total: number;
  page: number;
  pageSize: number;
}

const flagFilters = {
  overpaid: orderSumsSql.isOverpaid,
  underpaid: orderSumsSql.isUnderpaid,
  pendingWithFullPayment: orderSumsSql.isPendingWithFullPayment,
  pendingRefund: orderSumsSql.hasPendingRefund,
  externalRefund: orderSumsSql.hasExternalRefund,
} as const;

/** One page of an organizer's orders with their sums and flags, newest first. */
export async function searchOrders(db: Pick<EntityManager, 'query'>, query: OrderSearchQuery): Promise<OrderSearchResult> {
  const page = query.page ?? 1;
  const pageSize = query.pageSize ?? 50;
  if (!Number.isSafeInteger(page) || page < 1) throw new KassaError('VALIDATION_FAILED', { detail: `page must be a positive integer, got ${page}` });
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > 500) {
    throw new KassaError('VALIDATION_FAILED', { detail: `pageSize must be between 1 and 500, got ${pageSize}` });
  }
  const params: unknown[] = [query.organizerId];
  const where = ['o.organizer_id = $1'];
  const bind = (v: unknown) => `$${params.push(v)}`;
  if (query.eventId) where.push(`o.event_id = ${bind(query.eventId)}`);
  if (query.eventIds) where.push(`o.event_id = ANY(${bind([...query.eventIds])}::uuid[])`);
  if (query.status) {
    if (!orderStates.includes(query.status)) throw new KassaError('VALIDATION_FAILED', { detail: `unknown order status ${query.status}` });
    where.push(`o.status = ${bind(query.status)}`);
  }
  if (query.provider) where.push(`EXISTS (SELECT 1 FROM order_payment pp WHERE pp.order_id = o.id AND pp.provider = ${bind(query.provider)})`);
  for (const [key, sql] of Object.entries(flagFilters) as [keyof typeof flagFilters, string][]) {
    const wanted = query[key];
    if (wanted !== undefined) where.push(wanted ? sql : `NOT ${sql}`);
  }
  if (query.q) {
    const text = query.q.trim().replace(/[\\%_]/g, (c) => `\\${c}`);
    where.push(`(o.code ILIKE ${bind(`${text}%`)} OR o.email ILIKE ${bind(`%${text}%`)})`);
  }
  const rows: Record<string, unknown>[] = await db.query(
    `SELECT o.id, o.code, o.status, o.total, o.currency, o.email, o.event_id, o.expires, o.created_at,
       ${orderSumsColumns},
       count(*) OVER () AS full_count
     FROM kassa_order o ${orderSumsJoins}
     WHERE ${where.join(' AND ')}
     ORDER BY o.created_at DESC, o.id
     LIMIT ${bind(pageSize)} OFFSET ${bind((page - 1) * pageSize)}`,
    params,
  );
  let total = rows.length > 0 ? Number(rows[0]?.full_count) : 0;
  if (rows.length === 0 && page > 1) {
    // Past the last page the window count is not there; count separately so the pager can recover.
    const [row] = await db.query(`SELECT count(*) AS n FROM kassa_order o ${orderSumsJoins} WHERE ${where.join(' AND ')}`, params.slice(0, -2));
    total = Number(row.n);
  }
  return {
    items: rows.map((r) => ({
      ...toOrderSums(r), email: (r.email as string | null) ?? null, eventId: String(r.event_id),
      expires: new Date(r.expires as string), createdAt: new Date(r.created_at as string),
    })),
    total,
    page,
    pageSize,
  };
}
