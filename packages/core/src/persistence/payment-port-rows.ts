import type { EntityManager } from 'typeorm';
import type { Actor } from '../audit/log-action';
import { KassaError } from '../errors';
import { isUuid, record } from '../order/state-writes';
import type { OutboxTopic } from '../outbox/emit-event';
import { paymentMachine } from '../payment/payment.machine';
import { refundMachine } from '../refund/refund.machine';
import { orderSumsJoins, orderSumsSql } from './order-sums';
import type { OrderStatus } from '../order/order.machine';
import type { PaymentState } from '../payment/payment.machine';
import type { RefundSource, RefundState } from '../refund/refund.machine';

/*
 * The rows the plugin payments port reads and writes (port/payments-port.ts). Plugins never see
 * these tables: they get the plain records below and ask core's services for every state change.
 */

/** A payment attempt as a plugin sees it. */
export interface PaymentRecord {
  readonly id: string;
  readonly orderId: string;
  readonly localId: number;
  readonly provider: string;
  readonly state: PaymentState;
  readonly amount: number;
  readonly currency: string;
  /** The provider's own data on the payment (PaymentInfo). */
  readonly info: Record<string, unknown>;
  readonly createdAt: Date;
}

/** The order's public fields: what a provider may show or link to. */
export interface OrderRecord {
  readonly id: string;
  readonly code: string;
  /** The order's secret (order page link, per-order HMAC keys); never shown to others. */
  readonly secret: string;
  readonly status: OrderStatus;
  readonly organizerId: string;
  readonly eventId: string;
  readonly email: string | null;
  readonly total: number;
  readonly currency: string;
}

export interface EventRecord {
  readonly id: string;
  readonly organizerId: string;
  readonly slug: string;
  readonly name: string;
  readonly currency: string;
  readonly locale: string;
}

export interface OrganizerRecord {
  readonly id: string;
  readonly slug: string;
}

export interface PaymentWithOrder {
  readonly payment: PaymentRecord;
  readonly order: OrderRecord;
  readonly event: EventRecord;
  readonly organizer: OrganizerRecord;
}

export interface RefundRecord {
  readonly id: string;
  readonly orderId: string;
  readonly paymentId: string | null;
  readonly provider: string;
  readonly state: RefundState;
  readonly source: RefundSource;
  readonly amount: number;
  readonly currency: string;
  readonly externalId: string | null;
}

/** One payment with its order, event and organizer; null when there is none (or the id is no uuid). */
export async function readPaymentWithOrder(m: EntityManager, paymentId: string): Promise<PaymentWithOrder | null> {
  if (!isUuid(paymentId)) return null;
  const [r]: Record<string, unknown>[] = await m.query(
    `SELECT p.id, p.order_id, p.local_id, p.provider, p.state, p.amount::text AS amount, p.currency, p.info, p.created_at,
            o.code, o.secret, o.status, o.organizer_id, o.event_id, o.email, o.total::text AS total, o.currency AS order_currency,
            e.slug AS event_slug, e.name AS event_name, e.currency AS event_currency, e.locale AS event_locale, g.slug AS organizer_slug
       FROM order_payment p JOIN kassa_order o ON o.id = p.order_id JOIN event e ON e.id = o.event_id JOIN organizer g ON g.id = o.organizer_id
      WHERE p.id = $1`, [paymentId]);
  return r ? paymentWithOrderFrom(r) : null;
}

/** A row of the payment/order/event/organizer columns above (also the port's open-payments pages) as a PaymentWithOrder. */
export function paymentWithOrderFrom(r: Record<string, unknown>): PaymentWithOrder {
  const s = (k: string) => String(r[k]);
  return {
    payment: {
      id: s('id'), orderId: s('order_id'), localId: Number(r.local_id), provider: s('provider'), state: r.state as PaymentState,
      amount: Number(r.amount), currency: s('currency').trim(), info: (r.info ?? {}) as Record<string, unknown>, createdAt: new Date(r.created_at as string),
    },
    order: {
      id: s('order_id'), code: s('code'), secret: s('secret'), status: r.status as OrderStatus, organizerId: s('organizer_id'), eventId: s('event_id'),
      email: (r.email as string | null) ?? null, total: Number(r.total), currency: s('order_currency').trim(),
    },
    event: { id: s('event_id'), organizerId: s('organizer_id'), slug: s('event_slug'), name: s('event_name'), currency: s('event_currency').trim(), locale: s('event_locale') },
    organizer: { id: s('organizer_id'), slug: s('organizer_slug') },
  };
}

/**
 * Merges provider data into the payment's info. A shredded payment never gets card or billing
 * details back from a late provider event.
 */
export async function mergePaymentInfo(m: EntityManager, paymentId: string, patch: Record<string, unknown>): Promise<void> {
  await m.query(
    `UPDATE order_payment SET info = CASE WHEN info ? '_shredded' THEN info || ($2::jsonb - 'card' - 'billing') ELSE info || $2::jsonb END WHERE id = $1`,
    [paymentId, JSON.stringify(patch)],
  );
}

/** Locks the payment row (FOR UPDATE) in the caller's transaction; NOT_FOUND when there is none. */
export async function lockPaymentRow(tx: EntityManager, paymentId: string): Promise<void> {
  const found: unknown[] = isUuid(paymentId) ? await tx.query('SELECT id FROM order_payment WHERE id = $1 FOR UPDATE', [paymentId]) : [];
  if (found.length === 0) throw new KassaError('NOT_FOUND', { entity: `Payment ${paymentId}` });
}

/** Open payments of one provider carrying `infoKey`, created between `maxAgeMs` and `olderThanMs` ago, oldest first. */
export async function findOpenPayments(
  m: EntityManager, q: { provider: string; infoKey: string; olderThanMs: number; maxAgeMs: number; limit: number },
): Promise<{ id: string; info: Record<string, unknown> }[]> {
  return m.query(
    `SELECT p.id, p.info FROM order_payment p
      WHERE p.provider = $1 AND ${paymentMachine.sqlIn('open', 'p.state')} AND p.info ? $2
        AND p.created_at < now() - ($3::int * interval '1 millisecond') AND p.created_at > now() - ($4::bigint * interval '1 millisecond')
      ORDER BY p.created_at LIMIT $5`, [q.provider, q.infoKey, q.olderThanMs, q.maxAgeMs, q.limit],
  );
}

/** A refund by id, or by (provider, external id), of one payment; null when there is none. */
export async function readRefund(
  m: EntityManager, paymentId: string, by: { id: string } | { provider: string; externalId: string },
): Promise<RefundRecord | null> {
  if ('id' in by && !isUuid(by.id)) return null;
  const [r]: Record<string, unknown>[] = 'id' in by
    ? await m.query('SELECT id, order_id, payment_id, provider, state, source, amount::text AS amount, currency, external_id FROM order_refund WHERE id = $1 AND payment_id = $2', [by.id, paymentId])
    : await m.query('SELECT id, order_id, payment_id, provider, state, source, amount::text AS amount, currency, external_id FROM order_refund WHERE provider = $1 AND external_id = $2 AND payment_id = $3 ORDER BY local_id LIMIT 1', [by.provider, by.externalId, paymentId]);
  if (!r) return null;
  return {
    id: String(r.id), orderId: String(r.order_id), paymentId: (r.payment_id as string | null) ?? null, provider: String(r.provider),
    state: r.state as RefundState, source: r.source as RefundSource, amount: Number(r.amount), currency: String(r.currency).trim(),
    externalId: (r.external_id as string | null) ?? null,
  };
}

/** A provider's event about a payment: the audit entry, and the outbox event when a topic is given. */
export interface ProviderEventInput {
  readonly paymentId: string;
  /** Audit action, e.g. "kassa.stripe.dispute.updated". */
  readonly action: string;
  readonly actor: Actor;
  readonly data?: Record<string, unknown>;
  /** Outbox topic, prefixed with the plugin's name ("stripe.dispute_updated"). */
  readonly topic?: OutboxTopic;
  readonly payload?: Record<string, unknown>;
}

/** Writes a provider event in the caller's transaction (one statement with its outbox event). */
export async function recordProviderEvent(tx: EntityManager, input: ProviderEventInput): Promise<void> {
  const [o]: { id: string; organizer_id: string; event_id: string; code: string }[] = await tx.query(
    'SELECT o.id, o.organizer_id, o.event_id, o.code FROM order_payment p JOIN kassa_order o ON o.id = p.order_id WHERE p.id = $1', [input.paymentId]);
  if (!o) throw new KassaError('NOT_FOUND', { entity: `Payment ${input.paymentId}` });
  await record(tx, {
    order: { id: o.id, organizerId: o.organizer_id, eventId: o.event_id, code: o.code }, objectType: 'payment', objectId: input.paymentId,
    action: input.action, actor: input.actor, data: input.data, ...(input.topic ? { topic: input.topic, payload: input.payload ?? {} } : {}),
  });
}

/** An event by id; null when there is none (or the id is no uuid). */
export async function readEvent(m: EntityManager, eventId: string): Promise<EventRecord | null> {
  if (!isUuid(eventId)) return null;
  const [r]: Record<string, unknown>[] = await m.query('SELECT id, organizer_id, slug, name, currency, locale FROM event WHERE id = $1', [eventId]);
  return r ? { id: String(r.id), organizerId: String(r.organizer_id), slug: String(r.slug), name: String(r.name), currency: String(r.currency).trim(), locale: String(r.locale) } : null;
}

/** The organizer's events, by name (a plugin's per-event settings pages list them); at most 500. */
export async function readOrganizerEvents(m: EntityManager, organizerId: string): Promise<EventRecord[]> {
  if (!isUuid(organizerId)) return [];
  const rows: Record<string, unknown>[] = await m.query('SELECT id, organizer_id, slug, name, currency, locale FROM event WHERE organizer_id = $1 ORDER BY name, slug LIMIT 500', [organizerId]);
  return rows.map((r) => ({ id: String(r.id), organizerId: String(r.organizer_id), slug: String(r.slug), name: String(r.name), currency: String(r.currency).trim(), locale: String(r.locale) }));
}

/**
 * The organizer's orders whose code appears in one of the texts (spaces, dashes, underscores and
 * case ignored), with their event and what each still owes. At most 500 rows: a statement's
 * references name a few orders each.
 */
export async function findOrdersInText(
  m: EntityManager, organizerId: string, texts: readonly string[],
): Promise<{ order: OrderRecord; event: EventRecord; pendingSum: number }[]> {
  if (!isUuid(organizerId) || texts.length === 0) return [];
  const compact = texts.map((t) => t.toUpperCase().replace(/[\s\-_]+/g, '')).filter((t) => t.length > 0);
  if (compact.length === 0) return [];
  const rows: Record<string, unknown>[] = await m.query(
    `SELECT o.id, o.code, o.secret, o.status, o.organizer_id, o.event_id, o.email, o.total::text AS total, o.currency,
            e.slug AS event_slug, e.name AS event_name, e.currency AS event_currency, e.locale AS event_locale,
            (${orderSumsSql.pendingSum})::text AS pending_sum
       FROM kassa_order o JOIN event e ON e.id = o.event_id ${orderSumsJoins}
      WHERE o.organizer_id = $1 AND EXISTS (SELECT 1 FROM unnest($2::text[]) t(text) WHERE strpos(t.text, upper(o.code)) > 0)
      ORDER BY o.created_at LIMIT 500`, [organizerId, compact]);
  return rows.map((r) => {
    const s = (k: string) => String(r[k]);
    return {
      order: {
        id: s('id'), code: s('code'), secret: s('secret'), status: r.status as OrderStatus, organizerId: s('organizer_id'), eventId: s('event_id'),
        email: (r.email as string | null) ?? null, total: Number(r.total), currency: s('currency').trim(),
      },
      event: { id: s('event_id'), organizerId: s('organizer_id'), slug: s('event_slug'), name: s('event_name'), currency: s('event_currency').trim(), locale: s('event_locale') },
      pendingSum: Number(r.pending_sum),
    };
  });
}

/** Refunds of one provider for the organizer's orders that are sent but not settled (transit), oldest first. */
export async function findRefundsInTransit(
  m: EntityManager, q: { organizerId: string; provider: string; limit: number },
): Promise<{ refund: RefundRecord; info: Record<string, unknown>; orderCode: string; eventSlug: string }[]> {
  if (!isUuid(q.organizerId)) return [];
  const rows: Record<string, unknown>[] = await m.query(
    `SELECT r.id, r.order_id, r.payment_id, r.provider, r.state, r.source, r.amount::text AS amount, r.currency, r.external_id, r.info, o.code, e.slug
       FROM order_refund r JOIN kassa_order o ON o.id = r.order_id JOIN event e ON e.id = o.event_id
      WHERE o.organizer_id = $1 AND r.provider = $2 AND ${refundMachine.sqlIn('inTransit', 'r.state')}
      ORDER BY r.created_at, r.id LIMIT $3`, [q.organizerId, q.provider, q.limit]);
  return rows.map((r) => ({
    refund: {
      id: String(r.id), orderId: String(r.order_id), paymentId: (r.payment_id as string | null) ?? null, provider: String(r.provider),
      state: r.state as RefundState, source: r.source as RefundSource, amount: Number(r.amount), currency: String(r.currency).trim(),
      externalId: (r.external_id as string | null) ?? null,
    },
    info: (r.info ?? {}) as Record<string, unknown>,
    orderCode: String(r.code),
    eventSlug: String(r.slug),
  }));
}
