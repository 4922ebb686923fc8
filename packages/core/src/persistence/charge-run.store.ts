import type { EntityManager } from 'typeorm';
import { Event } from '../event/event.entity';
import { Order } from '../order/order.entity';
import { OrderPayment } from '../payment/order-payment.entity';
import { instalmentMachine } from '../plan/instalment.machine';
import { planMachine } from '../plan/payment-plan.machine';
import type { StoredMethodRef } from '../provider/stored-method-types';
import { prepared, queryPrepared } from './prepared-query';
import { hydrate, prefixedColumns, unprefixed } from './rows';

/*
 * The charge run's own statements (docs/payment-plans.md, "Charge runs"): one claims a chunk of
 * due instalments and reads, in the same round trip, everything their charges need (payment,
 * order, event, stored method with the provider's customer id), so a charge sends no statement
 * before the provider call.
 */

/** A claimed instalment with what its charge needs. */
export interface ClaimedCharge {
  readonly id: string;
  readonly paymentId: string;
  readonly attempt: number;
  readonly provider: string;
  readonly claimedBy: string;
  readonly payment: OrderPayment;
  readonly order: Order;
  readonly event: Event;
  /** The plan's stored method; null when the plan has none or the buyer removed it. */
  readonly method: StoredMethodRef | null;
}

const claimSql = prepared('claim_due_charges', () => `WITH due AS (
       SELECT i.id FROM plan_instalment i JOIN payment_plan p ON p.id = i.plan_id
        WHERE ${planMachine.sqlIn('running', 'p.state')} AND ${instalmentMachine.sqlIn('due', 'i.state')}
          AND i.next_attempt_at <= $1 AND (i.lease_until IS NULL OR i.lease_until < $1)
          AND NOT EXISTS (SELECT 1 FROM plan_instalment d WHERE d.plan_id = i.plan_id AND ${instalmentMachine.sqlIn('onSession', 'd.state')})
          AND ($5::uuid[] IS NULL OR i.id = ANY($5::uuid[]))
        ORDER BY i.next_attempt_at, i.id
        LIMIT $2
        FOR UPDATE OF i SKIP LOCKED),
     claimed AS (
       UPDATE plan_instalment i SET lease_until = $1::timestamptz + ($3::int * interval '1 millisecond'), claimed_by = $4
         FROM due WHERE i.id = due.id
       RETURNING i.id, i.plan_id, i.payment_id, i.attempt, i.claimed_by, i.next_attempt_at)
     SELECT c.id AS claim_id, c.payment_id AS claim_payment_id, c.attempt AS claim_attempt, c.claimed_by AS claim_claimed_by, pl.provider AS claim_provider,
            m.id AS method_id, m.provider AS method_provider, m.reference AS method_reference, m.brand AS method_brand, m.last4 AS method_last4,
            m.exp_month AS method_exp_month, m.exp_year AS method_exp_year, cu.provider_refs AS method_provider_refs,
            ${prefixedColumns(OrderPayment, 'pay__', 'op')}, ${prefixedColumns(Order, 'order__', 'o')}, ${prefixedColumns(Event, 'event__', 'e')}
       FROM claimed c JOIN payment_plan pl ON pl.id = c.plan_id
       JOIN order_payment op ON op.id = c.payment_id JOIN kassa_order o ON o.id = op.order_id JOIN event e ON e.id = o.event_id
       LEFT JOIN stored_payment_method m ON m.id = pl.stored_method_id AND m.removed_at IS NULL
       LEFT JOIN customer cu ON cu.id = m.customer_id
      ORDER BY c.next_attempt_at, c.id`);

/**
 * Claims up to `limit` due instalments (next_attempt_at reached) of running plans for one charge
 * run, in one statement with FOR UPDATE SKIP LOCKED, so two runs never claim the same row. The
 * claim is a lease (`lease_until`, the run's token in `claimed_by`), not a state: an instalment
 * whose run died is claimed again once its lease ran out. Nothing is charged off-session before
 * the deposit was paid in the checkout. The rows come with their charge's inputs (see above).
 */
export async function claimDueCharges(m: EntityManager, q: { now: Date; leaseMs: number; limit: number; token: string; onlyIds?: readonly string[] }): Promise<ClaimedCharge[]> {
  const rows = await queryPrepared(m, claimSql, [q.now, q.limit, q.leaseMs, q.token, q.onlyIds ? [...q.onlyIds] : null]);
  return rows.map((r) => {
    const refs = (r.method_provider_refs ?? {}) as Record<string, string>;
    return {
      id: String(r.claim_id), paymentId: String(r.claim_payment_id), attempt: Number(r.claim_attempt), provider: String(r.claim_provider), claimedBy: String(r.claim_claimed_by),
      payment: hydrate(m, OrderPayment, unprefixed(r, 'pay__')),
      order: hydrate(m, Order, unprefixed(r, 'order__')),
      event: hydrate(m, Event, unprefixed(r, 'event__')),
      method: r.method_id === null || r.method_id === undefined ? null : {
        id: String(r.method_id), reference: String(r.method_reference), customerReference: refs[String(r.method_provider)] ?? null,
        brand: (r.method_brand as string | null) ?? null, last4: (r.method_last4 as string | null) ?? null,
        expMonth: r.method_exp_month === null ? null : Number(r.method_exp_month), expYear: r.method_exp_year === null ? null : Number(r.method_exp_year),
      },
    };
  });
}
