import type { EntityManager } from 'typeorm';
import { KassaError } from '../errors';
import type { Event } from '../event/event.entity';
import { OrderFee } from '../order/order-fee.entity';
import { OrderPosition } from '../order/order-position.entity';
import { Order } from '../order/order.entity';
import { orderMachine } from '../order/order.machine';
import { quotaRefusal, type LockedQuota, type NewPosition } from './quota-check';
import { OrderPayment } from '../payment/order-payment.entity';
import { paymentMachine } from '../payment/payment.machine';
import { logInsertCte, outboxInsertCte, sqlText } from './audit-outbox';
import { prepared, queryPrepared } from './prepared-query';
import { LaneBatches, QuotaLanes, type LaneRequest } from './quota-lane';
import { columnList, hydrate, prefixedColumns, unprefixed } from './rows';

/*
 * Group placement: the orders of one event that arrive while a placement statement for that event
 * is in flight wait in Node and then go to PostgreSQL together, as ONE statement that commits on its
 * own. On a hot quota every order needs the same row lock; queued in PostgreSQL, each handover cost
 * a wake-up, a re-check of the locked rows and a WAL flush while the next buyer waited (about 1 ms
 * of PostgreSQL CPU per order with 2 or more in flight, against 0.6 ms alone). Batched, one lock,
 * one commit and one round trip serve the whole queue, and a batch grows with the load (one order
 * when the shop is quiet, so a lone buyer waits for nothing). The Stripe webhook inbox does the same
 * with events (plugins/stripe/src/webhooks/inbox-writer.ts).
 *
 * The SQL decides each order in queue order, as if they had come one by one:
 * - `fresh`: every price and product the order was priced with, and the event fields, are current
 *   (otherwise 'stale': nothing written, placeOrder reads afresh and prices again);
 * - `covered`: every product is in a quota (otherwise ORDER_PRODUCT_UNAVAILABLE);
 * - `fits`: with the orders before it in the batch that take seats (fresh and covered), every
 *   limited quota still has room: a running sum per quota over the batch in queue order;
 * - the first order that takes seats and does not fit is refused (ORDER_QUOTA_EXCEEDED, with the
 *   usage it saw); every order behind it that takes seats is sent again in the next batch, where
 *   the usage no longer counts the refused one. So an order is refused only if it did not fit
 *   after the ones before it, never because of one that was refused.
 * Orders taking seats are inserted with ON CONFLICT DO NOTHING: a taken idempotency key or order
 * code inserts nothing for that order ('conflict', the caller looks the key up or draws a new
 * code). A conflict is rare (codes are drawn from 28 million; two submissions with one key are kept
 * out of the same batch), and its seats still count for the orders behind it in that batch, which
 * can only refuse too early at the very edge of a sold-out quota, never oversell.
 *
 * Cart reservations (cart-reservation.store.ts): the unexpired holds of all carts (`holds` rows
 * without a cart) count as used, and an order placed with its cart id turns its own hold (its cart's
 * `holds` rows) into positions: per quota it takes only what it wants beyond its hold (`cum.upto`
 * sums max(wanted − held by its cart, 0) in queue order), and its cart's rows are deleted by the
 * same statement (`freed`). So an order never takes more than its hold plus
 * what is free, and usage plus holds never exceed a quota. Both are read through one function call
 * (kassa_cart_holds, migration 1769310000000; the reason is kassa_cart_held's, migration
 * 1767500000000) that takes its snapshot after the quota lock: a plain subquery would see the holds
 * as of the statement's start, before it waited for the lock. Counting a hold larger than the order as
 * freed only from the next batch on keeps this true even for an order whose insert conflicts.
 *
 * The statement's fixed cost (executor start-up of every plan node, paid per call) is most of its
 * work for a batch of a few orders, so it keeps its node count down: the positions come as a flat
 * list of their own, the placed orders' rows are picked once (`placed`) for every write that
 * follows, and the per-quota sums are one grouped, windowed query. Both lists are filtered to the
 * batch's index range, which every row is in: without it the planner takes each list for 100 rows
 * (positions: 100 per order) and plans hash tables sized for that, paid for on every call; with it
 * it plans nested loops over a handful of rows. They come as json, not jsonb: json_to_recordset
 * parses the text once, where jsonb would first build its binary form of the whole list.
 */

/** The state a placed order and its first payment start in, and what placing writes to the log and outbox. */
export const placedStatus = orderMachine.initial[0]!;
export const firstPaymentState = paymentMachine.initial[0]!;
/** Placing an order is no edge (it creates the row); its log action and topic are named here, once. */
export const placedEffects = { log: 'kassa.order.placed', topic: 'order.placed' } as const;

/** Everything the placement writes for one order, worked out in Node beforehand. */
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
  country: string | null;
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
  /** The buyer's cart: its unexpired hold becomes this order's quota use in the placement statement. */
  cartId: string | null;
}

/** The event fields the order was priced with, besides organizer and currency (checked too). */
export type PricedFrom = Pick<Event, 'paymentTermDays' | 'locale' | 'paymentTermLast'>;

/** What became of one order: placed, out of date (nothing written), or a taken code or idempotency key (nothing written). */
export type PlacementOutcome =
  | { kind: 'placed'; order: Order; positions: OrderPosition[]; fees: OrderFee[]; payment: OrderPayment | null }
  | { kind: 'conflict' }
  | { kind: 'stale' };

/** At most this many orders per statement. */
const MAX_BATCH = 64;

const batchSql = prepared('place_orders_held', () => `WITH ord AS MATERIALIZED (
      SELECT * FROM json_to_recordset($1::json) AS t(
        idx integer, id uuid, organizer_id uuid, event_id uuid, code text, secret text, email text, locale text, total bigint,
        currency text, expires timestamptz, testmode boolean, idempotency_key text, country text, fee_id uuid, fee bigint, provider text,
        payment_id uuid, payment_initiated boolean, actor_type text, actor_id text, log_data jsonb, payload jsonb,
        term_days integer, event_locale text, term_last timestamptz, cart_id uuid)
       WHERE t.idx >= 0 AND t.idx < ${MAX_BATCH}),
    want AS MATERIALIZED (
      SELECT * FROM json_to_recordset($3::json) AS p(idx integer, product_id uuid, position_no integer, price bigint, attendee_name text, cart_id uuid)
       WHERE p.idx >= 0 AND p.idx < ${MAX_BATCH}),
    q AS MATERIALIZED (
      SELECT q.id, q.name, q.size, u.used FROM quota q JOIN quota_usage u ON u.quota_id = q.id
       WHERE q.id IN (SELECT quota_id FROM quota_product WHERE product_id IN (SELECT product_id FROM want))
       ORDER BY q.id
         FOR NO KEY UPDATE OF q, u),
    qp AS MATERIALIZED (SELECT qp.quota_id, qp.product_id FROM quota_product qp WHERE qp.quota_id IN (SELECT id FROM q)),
    holds AS MATERIALIZED (
      SELECT b.cart_id, b.quota_id, b.n
        FROM kassa_cart_holds((SELECT array_agg(id) FROM q), $2::timestamptz, $4::uuid[]) b),
    checked AS MATERIALIZED (
      SELECT ord.idx, ord.id,
             EXISTS (SELECT 1 FROM event e WHERE e.id = ord.event_id AND e.organizer_id = ord.organizer_id AND e.currency = ord.currency
                        AND e.payment_term_days = ord.term_days AND e.locale = ord.event_locale
                        AND date_trunc('milliseconds', e.payment_term_last) IS NOT DISTINCT FROM ord.term_last)
             AND NOT EXISTS (SELECT 1 FROM want w WHERE w.idx = ord.idx AND NOT EXISTS (
                   SELECT 1 FROM product p WHERE p.id = w.product_id AND p.event_id = ord.event_id AND p.active AND p.price = w.price)) AS fresh,
             NOT EXISTS (SELECT 1 FROM want w WHERE w.idx = ord.idx AND NOT EXISTS (SELECT 1 FROM qp WHERE qp.product_id = w.product_id)) AS covered
        FROM ord),
    cum AS MATERIALIZED (
      SELECT w.idx, qp.quota_id, count(*)::integer AS n,
             sum(greatest(count(*) - coalesce(max(mi.n), 0), 0)) OVER (PARTITION BY qp.quota_id ORDER BY w.idx)::integer AS upto
        FROM want w JOIN qp ON qp.product_id = w.product_id JOIN checked c ON c.idx = w.idx AND c.fresh AND c.covered
        LEFT JOIN holds mi ON mi.cart_id = w.cart_id AND mi.quota_id = qp.quota_id
       GROUP BY w.idx, qp.quota_id),
    fit AS MATERIALIZED (
      SELECT c.idx, c.id, c.fresh, c.covered,
             c.fresh AND c.covered AND NOT EXISTS (
               SELECT 1 FROM cum JOIN q ON q.id = cum.quota_id LEFT JOIN holds h ON h.quota_id = q.id AND h.cart_id IS NULL
                WHERE cum.idx = c.idx AND q.size IS NOT NULL AND q.used + coalesce(h.n, 0) + cum.upto > q.size) AS fits
        FROM checked c),
    cutoff AS MATERIALIZED (SELECT coalesce(min(idx) FILTER (WHERE fresh AND covered AND NOT fits), 2147483647) AS idx FROM fit),
    o AS (
      INSERT INTO kassa_order (id, organizer_id, event_id, code, secret, email, locale, total, currency, status, expires, testmode, idempotency_key, country)
      SELECT ord.id, ord.organizer_id, ord.event_id, ord.code, ord.secret, ord.email, ord.locale, ord.total, ord.currency, ${sqlText(placedStatus)},
             ord.expires, ord.testmode, ord.idempotency_key, ord.country
        FROM ord JOIN fit ON fit.idx = ord.idx CROSS JOIN cutoff WHERE fit.fits AND fit.idx < cutoff.idx
       ORDER BY ord.idx
      ON CONFLICT DO NOTHING
      RETURNING ${columnList(Order)}),
    placed AS MATERIALIZED (SELECT ord.* FROM ord WHERE ord.id IN (SELECT o.id FROM o)),
    fee AS (
      INSERT INTO order_fee (id, order_id, fee_type, internal_type, value, description, canceled)
      SELECT pl.fee_id, pl.id, 'payment', pl.provider, pl.fee, '', false FROM placed pl WHERE pl.fee > 0),
    pay AS (
      INSERT INTO order_payment (id, order_id, local_id, state, amount, currency, provider, info, fee_id, process_initiated, payment_date)
      SELECT pl.payment_id, pl.id, 1, ${sqlText(firstPaymentState)}, pl.total, pl.currency, pl.provider, '{}'::jsonb,
             CASE WHEN pl.fee > 0 THEN pl.fee_id END, pl.payment_initiated, NULL
        FROM placed pl WHERE pl.provider IS NOT NULL
      RETURNING order_id, created_at),
    ${logInsertCte('entry', {
      organizerId: 'pl.organizer_id', eventId: 'pl.event_id', orderId: 'pl.id', objectType: sqlText('order'), objectId: 'pl.id',
      action: sqlText(placedEffects.log), actorType: 'pl.actor_type', actorId: 'pl.actor_id', data: 'pl.log_data',
    }, 'placed pl')},
    ${outboxInsertCte('ev', { topic: sqlText(placedEffects.topic), organizerId: 'pl.organizer_id', orderId: 'pl.id', payload: 'pl.payload' }, 'placed pl')},
    freed AS (
      DELETE FROM cart_reservation r USING placed pl WHERE r.cart_id = pl.cart_id),
    ins AS (
      INSERT INTO order_position (order_id, product_id, position_no, price, attendee_name, canceled)
      SELECT pl.id, w.product_id, w.position_no, w.price, w.attendee_name, false
        FROM placed pl JOIN want w ON w.idx = pl.idx
      RETURNING ${prefixedColumns(OrderPosition, 'position__')})
    SELECT fit.idx AS batch__idx, fit.fresh AS batch__fresh, fit.covered AS batch__covered, fit.fits AS batch__fits,
           sign(fit.idx - cutoff.idx)::integer AS batch__place,
           CASE WHEN fit.fits THEN NULL ELSE (
             SELECT coalesce(json_agg(json_build_object('id', q.id, 'name', q.name, 'size', q.size,
                      'used', q.used + coalesce((SELECT h.n FROM holds h WHERE h.quota_id = q.id AND h.cart_id IS NULL), 0)
                              + coalesce((SELECT cum.upto - cum.n FROM cum WHERE cum.idx = fit.idx AND cum.quota_id = q.id), 0),
                      'products', array(SELECT qp.product_id::text FROM qp JOIN want w ON w.product_id = qp.product_id AND w.idx = fit.idx
                                         WHERE qp.quota_id = q.id GROUP BY qp.product_id))), '[]')
               FROM q) END AS batch__quotas,
           (SELECT pay.created_at FROM pay WHERE pay.order_id = o.id) AS batch__payment_created_at,
           o.*, ins.*
      FROM fit CROSS JOIN cutoff
      LEFT JOIN o ON o.id = fit.id LEFT JOIN ins ON ins.position__order_id = o.id`);

interface Waiting extends LaneRequest {
  rows: OrderRows;
  pricedFrom: PricedFrom;
  resolve: (outcome: PlacementOutcome) => void;
}

/**
 * One queue per event; at most one placement statement per event in flight from this process.
 * One batcher per core instance (createKassaCore makes it; KassaCore.close() closes it).
 */
export class PlacementBatcher {
  private readonly batches: LaneBatches<Waiting>;

  constructor(
    private readonly m: EntityManager, private readonly now: () => Date = () => new Date(),
    /** Shared with the event's cart reservations (kernel.ts), which lock the same quota rows. */
    lanes: QuotaLanes = new QuotaLanes(),
  ) {
    this.batches = new LaneBatches(lanes, { name: 'placement', take: takeBatch, run: (batch) => this.run(batch) });
  }

  place(rows: OrderRows, pricedFrom: PricedFrom): Promise<PlacementOutcome> {
    return new Promise((resolve, reject) => this.batches.add(rows.eventId, { rows, pricedFrom, resolve, reject }));
  }

  /** Refuses new orders and resolves once every order already queued is settled. */
  close(): Promise<void> {
    return this.batches.close();
  }

  /** Runs one batch; settles every order it decided and returns those to send again, in order. */
  private async run(batch: Waiting[]): Promise<Waiting[]> {
    // Only a failing statement rejects (and then nothing was written): the batch is tried again
    // order by order. Once it has committed, every order is settled from its own rows.
    const rows = await queryPrepared(this.m, batchSql, [
      JSON.stringify(batch.map((w, idx) => batchRecord(idx, w))), this.now().toISOString(),
      JSON.stringify(batch.flatMap((w, idx) => w.rows.positions.map((p, i) => ({
        idx, product_id: p.productId, position_no: i + 1, price: p.price, attendee_name: p.attendeeName, cart_id: w.rows.cartId,
      })))),
      batch.flatMap((w) => (w.rows.cartId === null ? [] : [w.rows.cartId])),
    ]);
    const deferred: Waiting[] = [];
    batch.forEach((w, idx) => {
      try {
        if (this.settle(w, idx, rows)) deferred.push(w);
      } catch (err) {
        w.reject(err);
      }
    });
    return deferred;
  }

  /** Settles one order of a committed batch from its rows; true when it is to be decided again. */
  private settle(w: Waiting, idx: number, rows: Record<string, unknown>[]): boolean {
    const result = rows.filter((row) => row.batch__idx === idx);
    const first = result[0];
    if (!first) {
      w.reject(new Error(`placement batch returned no row for order ${idx}`));
      return false;
    }
    // Independent of the orders before it: out of date, or a product in no quota.
    if (!first.batch__fresh) {
      w.resolve({ kind: 'stale' });
      return false;
    }
    const productIds = w.rows.positions.map((p) => p.productId);
    if (!first.batch__covered) {
      w.reject(quotaRefusal(productIds, first.batch__quotas as LockedQuota[]) ?? new KassaError('ORDER_PRODUCT_UNAVAILABLE', { product: productIds[0] }));
      return false;
    }
    // Behind the first order that did not fit: decided again in the next batch.
    if ((first.batch__place as number) > 0) return true;
    if (!first.batch__fits) {
      w.reject(quotaRefusal(productIds, first.batch__quotas as LockedQuota[]) ?? new KassaError('ORDER_QUOTA_EXCEEDED', { detail: 'no quota left for these positions' }));
      return false;
    }
    w.resolve(first.id === null || first.id === undefined ? { kind: 'conflict' } : placedFrom(this.m, w.rows, result));
    return false;
  }
}

/** Takes the next batch off the queue; the rest stays queued, in order. */
function takeBatch(waiting: Waiting[]): { batch: Waiting[]; rest: Waiting[] } {
  // Two submissions with one key never share a batch (the second becomes a replay of the first).
  const batch: Waiting[] = [];
  const rest: Waiting[] = [];
  const keys = new Set<string>();
  const codes = new Set<string>();
  // Nor do two orders of one cart: the first uses up the cart's hold, the second must not count it too.
  const carts = new Set<string>();
  for (const w of waiting) {
    const key = w.rows.idempotencyKey;
    const cart = w.rows.cartId;
    if (batch.length >= MAX_BATCH || (key !== null && keys.has(key)) || codes.has(w.rows.code) || (cart !== null && carts.has(cart))) rest.push(w);
    else {
      batch.push(w);
      if (key !== null) keys.add(key);
      if (cart !== null) carts.add(cart);
      codes.add(w.rows.code);
    }
  }
  return { batch, rest };
}

function batchRecord(idx: number, w: Waiting): Record<string, unknown> {
  const r = w.rows;
  return {
    idx, id: r.id, organizer_id: r.organizerId, event_id: r.eventId, code: r.code, secret: r.secret, email: r.email, locale: r.locale,
    total: r.total, currency: r.currency, expires: r.expires.toISOString(), testmode: r.testmode, idempotency_key: r.idempotencyKey,
    country: r.country, fee_id: r.feeId, fee: r.feeId ? r.fee : 0, provider: r.providerId, payment_id: r.paymentId, payment_initiated: r.paymentInitiated,
    actor_type: r.actor.type, actor_id: r.actor.id ?? null, log_data: r.logData, payload: r.eventPayload,
    term_days: w.pricedFrom.paymentTermDays, event_locale: w.pricedFrom.locale,
    term_last: w.pricedFrom.paymentTermLast ? new Date(w.pricedFrom.paymentTermLast).toISOString() : null,
    cart_id: r.cartId,
  };
}

function placedFrom(m: EntityManager, r: OrderRows, rows: Record<string, unknown>[]): PlacementOutcome {
  const first = rows[0]!;
  const order = hydrate(m, Order, first);
  const positions = rows.map((row) => hydrate(m, OrderPosition, unprefixed(row, 'position__'))).sort((a, b) => a.positionNo - b.positionNo);
  const fees = r.feeId ? [m.create(OrderFee, {
    id: r.feeId, orderId: r.id, feeType: 'payment', internalType: r.providerId as string, value: r.fee, description: '', canceled: false,
  })] : [];
  const payment = r.paymentId ? m.create(OrderPayment, {
    id: r.paymentId, orderId: r.id, localId: 1, state: firstPaymentState, amount: r.total, currency: order.currency, provider: r.providerId as string,
    info: {}, feeId: r.feeId, processInitiated: r.paymentInitiated, paymentDate: null, createdAt: first.batch__payment_created_at as Date,
  }) : null;
  return { kind: 'placed', order, positions, fees, payment };
}
