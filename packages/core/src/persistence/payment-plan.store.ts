import type { EntityManager } from 'typeorm';
import type { ActorRef } from './audit-outbox';
import { logInsertCte, outboxInsertCte, writeLogAndEvent } from './audit-outbox';
import { KassaError } from '../errors';
import { instalmentMachine, type InstalmentEvent, type InstalmentState } from '../plan/instalment.machine';
import { planMachine, type PlanEvent, type PlanState } from '../plan/payment-plan.machine';
import { isUuid, type OrderRef } from './rows';
import { paymentMachine } from '../payment/payment.machine';


/** The rows of an UPDATE … RETURNING (TypeORM's pg driver answers [rows, count] for updates). */
function updatedRows<T>(result: unknown): T[] {
  const r = result as unknown[];
  return (Array.isArray(r[0]) ? r[0] : r) as T[];
}

/*
 * Payment plans, their instalments and the organizer's per-event plan settings. Every state
 * change is a compare-and-set with its audit entry (and outbox event, where the edge has a topic)
 * in the caller's transaction.
 */

export interface PlanSettingsRow {
  readonly enabled: boolean;
  readonly instalments: number;
  readonly intervalDays: number | null;
  /** ISO dates (YYYY-MM-DD) of the instalments after the first. */
  readonly fixedDates: string[] | null;
  readonly minTotal: number;
  readonly graceDays: number;
  readonly validIfPending: boolean;
  /** No deposit: nothing is charged at checkout (the card is only saved); the first instalment is due after the interval or on the first date. */
  readonly noDeposit: boolean;
}

export const defaultPlanSettings: PlanSettingsRow = Object.freeze({
  enabled: false, instalments: 3, intervalDays: 30, fixedDates: null, minTotal: 0, graceDays: 7, validIfPending: false, noDeposit: false,
});

export async function readPlanSettings(m: EntityManager, eventId: string): Promise<PlanSettingsRow> {
  const [r]: Record<string, unknown>[] = await m.query('SELECT * FROM payment_plan_settings WHERE event_id = $1', [eventId]);
  if (!r) return defaultPlanSettings;
  return {
    enabled: Boolean(r.enabled), instalments: Number(r.instalments), intervalDays: r.interval_days === null ? null : Number(r.interval_days),
    fixedDates: (r.fixed_dates as string[] | null) ?? null, minTotal: Number(r.min_total), graceDays: Number(r.grace_days), validIfPending: Boolean(r.valid_if_pending),
    noDeposit: Boolean(r.no_deposit),
  };
}

export async function writePlanSettings(m: EntityManager, eventId: string, s: PlanSettingsRow): Promise<void> {
  await m.query(
    `INSERT INTO payment_plan_settings (event_id, enabled, instalments, interval_days, fixed_dates, min_total, grace_days, valid_if_pending, no_deposit)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9)
     ON CONFLICT (event_id) DO UPDATE SET enabled = EXCLUDED.enabled, instalments = EXCLUDED.instalments, interval_days = EXCLUDED.interval_days,
       fixed_dates = EXCLUDED.fixed_dates, min_total = EXCLUDED.min_total, grace_days = EXCLUDED.grace_days, valid_if_pending = EXCLUDED.valid_if_pending,
       no_deposit = EXCLUDED.no_deposit`,
    [eventId, s.enabled, s.instalments, s.intervalDays, s.fixedDates === null ? null : JSON.stringify(s.fixedDates), s.minTotal, s.graceDays, s.validIfPending, s.noDeposit]);
}

export interface PlanRow {
  readonly id: string;
  readonly orderId: string;
  readonly organizerId: string;
  readonly provider: string;
  readonly storedMethodId: string | null;
  state: PlanState;
  readonly graceDays: number;
  readonly validIfPending: boolean;
}

export interface InstalmentRow {
  readonly id: string;
  readonly planId: string;
  readonly seq: number;
  readonly paymentId: string;
  readonly amount: number;
  readonly dueAt: Date;
  state: InstalmentState;
  readonly attempt: number;
  readonly nextAttemptAt: Date;
  readonly leaseUntil: Date | null;
  readonly claimedBy: string | null;
  readonly actionReason: string | null;
  readonly actionSince: Date | null;
  readonly lastError: string | null;
}

function planRow(r: Record<string, unknown>): PlanRow {
  return {
    id: String(r.id), orderId: String(r.order_id), organizerId: String(r.organizer_id), provider: String(r.provider),
    storedMethodId: (r.stored_method_id as string | null) ?? null, state: r.state as PlanState, graceDays: Number(r.grace_days), validIfPending: Boolean(r.valid_if_pending),
  };
}

const date = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as string));

function instalmentRow(r: Record<string, unknown>): InstalmentRow {
  return {
    id: String(r.id), planId: String(r.plan_id), seq: Number(r.seq), paymentId: String(r.payment_id), amount: Number(r.amount),
    dueAt: new Date(r.due_at as string), state: r.state as InstalmentState, attempt: Number(r.attempt), nextAttemptAt: new Date(r.next_attempt_at as string),
    leaseUntil: date(r.lease_until), claimedBy: (r.claimed_by as string | null) ?? null, actionReason: (r.action_reason as string | null) ?? null,
    actionSince: date(r.action_since), lastError: (r.last_error as string | null) ?? null,
  };
}

const instalmentColumns = 'i.id, i.plan_id, i.seq, i.payment_id, i.amount::text AS amount, i.due_at, i.state, i.attempt, i.next_attempt_at, i.lease_until, i.claimed_by, i.action_reason, i.action_since, i.last_error';

export async function insertPlan(tx: EntityManager, input: { orderId: string; organizerId: string; provider: string; storedMethodId: string | null; graceDays: number; validIfPending: boolean }): Promise<PlanRow> {
  const [r]: Record<string, unknown>[] = await tx.query(
    `INSERT INTO payment_plan (order_id, organizer_id, provider, stored_method_id, state, grace_days, valid_if_pending)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [input.orderId, input.organizerId, input.provider, input.storedMethodId, planMachine.initial[0], input.graceDays, input.validIfPending]);
  return planRow(r!);
}

export async function insertInstalment(tx: EntityManager, input: { planId: string; seq: number; paymentId: string; amount: number; dueAt: Date; state: InstalmentState }): Promise<InstalmentRow> {
  const [r]: Record<string, unknown>[] = await tx.query(
    `INSERT INTO plan_instalment AS i (plan_id, seq, payment_id, amount, due_at, state, next_attempt_at)
     VALUES ($1, $2, $3, $4, $5, $6, $5) RETURNING ${instalmentColumns}`,
    [input.planId, input.seq, input.paymentId, input.amount, input.dueAt, input.state]);
  return instalmentRow(r!);
}

export async function readPlanOfOrder(m: EntityManager, orderId: string): Promise<{ plan: PlanRow; instalments: InstalmentRow[] } | null> {
  if (!isUuid(orderId)) return null;
  const [p]: Record<string, unknown>[] = await m.query('SELECT * FROM payment_plan WHERE order_id = $1', [orderId]);
  if (!p) return null;
  const rows: Record<string, unknown>[] = await m.query(`SELECT ${instalmentColumns} FROM plan_instalment i WHERE i.plan_id = $1 ORDER BY i.seq`, [p.id]);
  return { plan: planRow(p), instalments: rows.map(instalmentRow) };
}

/** An instalment with its plan and the order reference, the instalment row locked; NOT_FOUND when there is none. */
export async function lockInstalment(tx: EntityManager, instalmentId: string): Promise<{ instalment: InstalmentRow; plan: PlanRow; order: OrderRef }> {
  if (!isUuid(instalmentId)) throw new KassaError('NOT_FOUND', { entity: `Instalment ${instalmentId}` });
  const [r]: Record<string, unknown>[] = await tx.query(
    `SELECT ${instalmentColumns}, row_to_json(p) AS plan, o.organizer_id AS o_org, o.event_id AS o_event, o.code AS o_code
       FROM plan_instalment i JOIN payment_plan p ON p.id = i.plan_id JOIN kassa_order o ON o.id = p.order_id
      WHERE i.id = $1 FOR UPDATE OF i`, [instalmentId]);
  if (!r) throw new KassaError('NOT_FOUND', { entity: `Instalment ${instalmentId}` });
  const plan = planRow(r.plan as Record<string, unknown>);
  return { instalment: instalmentRow(r), plan, order: { id: plan.orderId, organizerId: String(r.o_org), eventId: String(r.o_event), code: String(r.o_code) } };
}

/** The instalment that owns a payment, if any. */
export async function instalmentOfPayment(m: EntityManager, paymentId: string): Promise<InstalmentRow | null> {
  if (!isUuid(paymentId)) return null;
  const [r]: Record<string, unknown>[] = await m.query(`SELECT ${instalmentColumns} FROM plan_instalment i WHERE i.payment_id = $1`, [paymentId]);
  return r ? instalmentRow(r) : null;
}

export async function lockPlan(tx: EntityManager, planId: string): Promise<PlanRow> {
  const [r]: Record<string, unknown>[] = await tx.query('SELECT * FROM payment_plan WHERE id = $1 FOR UPDATE', [planId]);
  if (!r) throw new KassaError('NOT_FOUND', { entity: `Plan ${planId}` });
  return planRow(r);
}

export interface InstalmentSet {
  nextAttemptAt?: Date;
  dueAt?: Date;
  attempt?: number;
  leaseUntil?: Date | null;
  claimedBy?: string | null;
  actionReason?: string | null;
  actionSince?: Date | null;
  lastError?: string | null;
}

/**
 * Moves an instalment along `event` (compare-and-set on its state) with the edge's audit entry and
 * outbox event, in one statement (the charge run writes one per charge). STATE_TRANSITION_NOT_ALLOWED
 * when the table has no such edge, STATE_CONFLICT when the row moved meanwhile (then nothing is written).
 */
export async function changeInstalment(
  tx: EntityManager, order: OrderRef, row: InstalmentRow, event: InstalmentEvent, rec: { actor: ActorRef; data?: Record<string, unknown>; payload?: Record<string, unknown> }, set: InstalmentSet = {},
): Promise<void> {
  const { to, effects } = instalmentMachine.transition(row.state, event);
  const cols: string[] = ['state = $3'];
  const values: unknown[] = [row.id, row.state, to];
  const param = (v: unknown): string => { values.push(v); return `$${values.length}`; };
  const add = (col: string, v: unknown) => { cols.push(`${col} = ${param(v)}`); };
  if (set.nextAttemptAt !== undefined) add('next_attempt_at', set.nextAttemptAt);
  if (set.dueAt !== undefined) add('due_at', set.dueAt);
  if (set.attempt !== undefined) add('attempt', set.attempt);
  if (set.leaseUntil !== undefined) add('lease_until', set.leaseUntil);
  if (set.claimedBy !== undefined) add('claimed_by', set.claimedBy);
  if (set.actionReason !== undefined) add('action_reason', set.actionReason);
  if (set.actionSince !== undefined) add('action_since', set.actionSince);
  if (set.lastError !== undefined) add('last_error', set.lastError);
  const ctes = [`changed AS (UPDATE plan_instalment SET ${cols.join(', ')} WHERE id = $1 AND state = $2 RETURNING id)`];
  if (effects.log) {
    const org = param(order.organizerId);
    const ord = param(order.id);
    ctes.push(logInsertCte('entry', {
      organizerId: `${org}::uuid`, eventId: `${param(order.eventId)}::uuid`, orderId: `${ord}::uuid`, objectType: `'instalment'`, objectId: `${param(row.id)}::text`,
      action: `${param(effects.log)}::text`, actorType: `${param(rec.actor.type)}::text`, actorId: `${param(rec.actor.id ?? null)}::text`,
      data: `${param(JSON.stringify({ seq: row.seq, paymentId: row.paymentId, ...rec.data }))}::jsonb`,
    }, 'changed'));
    if (effects.topic) {
      ctes.push(outboxInsertCte('event', {
        topic: `${param(effects.topic)}::text`, organizerId: `${org}::uuid`, orderId: `${ord}::uuid`,
        payload: `${param(JSON.stringify({ orderId: order.id, code: order.code, instalmentId: row.id, seq: row.seq, paymentId: row.paymentId, ...rec.payload }))}::jsonb`,
      }, 'changed'));
    }
  }
  const [r]: { n: number }[] = await tx.query(`WITH ${ctes.join(',\n')}\nSELECT count(*)::int AS n FROM changed`, values);
  if (r?.n !== 1) throw new KassaError('STATE_CONFLICT', { machine: instalmentMachine.name, id: row.id, expected: row.state });
  row.state = to;
}

/** Moves a plan along `event` (compare-and-set) with its audit entry and outbox event. */
export async function changePlan(tx: EntityManager, order: OrderRef, plan: PlanRow, event: PlanEvent, rec: { actor: ActorRef; data?: Record<string, unknown> }): Promise<void> {
  const { to, effects } = planMachine.transition(plan.state, event);
  const rows = updatedRows(await tx.query('UPDATE payment_plan SET state = $3 WHERE id = $1 AND state = $2 RETURNING id', [plan.id, plan.state, to]));
  if (rows.length !== 1) throw new KassaError('STATE_CONFLICT', { machine: planMachine.name, id: plan.id, expected: plan.state });
  plan.state = to;
  if (effects.log) {
    await writeLogAndEvent(tx, {
      organizerId: order.organizerId, eventId: order.eventId, orderId: order.id, objectType: 'plan', objectId: plan.id,
      action: effects.log, actor: rec.actor, data: rec.data ?? {},
    }, effects.topic ? { topic: effects.topic, organizerId: order.organizerId, orderId: order.id, payload: { orderId: order.id, code: order.code, planId: plan.id } } : undefined);
  }
}

/** Open instalments of a plan, for deciding the plan's state after a change. */
export async function countOpenInstalments(tx: EntityManager, planId: string): Promise<{ open: number; awaitingBuyer: number }> {
  const [r]: { open: string; awaiting: string }[] = await tx.query(
    `SELECT count(*) FILTER (WHERE ${instalmentMachine.sqlIn('open', 'state')})::text AS open,
            count(*) FILTER (WHERE ${instalmentMachine.sqlIn('awaitingBuyer', 'state')})::text AS awaiting
       FROM plan_instalment WHERE plan_id = $1`, [planId]);
  return { open: Number(r?.open ?? 0), awaitingBuyer: Number(r?.awaiting ?? 0) };
}

/** The organizer's instalments waiting for the buyer (authentication, a new card): the dashboard's "failed instalments". */
export async function countInstalmentsAwaitingBuyer(m: EntityManager, organizerId: string): Promise<number> {
  const [r]: { n: string }[] = await m.query(
    `SELECT count(*)::text AS n FROM plan_instalment i JOIN payment_plan p ON p.id = i.plan_id
      WHERE p.organizer_id = $1 AND ${instalmentMachine.sqlIn('awaitingBuyer', 'i.state')}`, [organizerId]);
  return Number(r?.n ?? 0);
}

/** Instalments whose payment was confirmed outside a charge run (checkout, webhook, on-session page, marked paid). */
export async function instalmentsPaidElsewhere(m: EntityManager, limit: number, orderId?: string): Promise<string[]> {
  const rows: { id: string }[] = await m.query(
    `SELECT i.id FROM plan_instalment i JOIN order_payment op ON op.id = i.payment_id
      WHERE ${instalmentMachine.sqlIn('settledElsewhere', 'i.state')} AND ${paymentMachine.sqlIn('counting', 'op.state')}
        AND ($2::uuid IS NULL OR op.order_id = $2::uuid) LIMIT $1`, [limit, orderId ?? null]);
  return rows.map((r) => r.id);
}

/** Instalments waiting for the buyer longer than their plan's grace period (for the organizer's list). */
export async function instalmentsPastGrace(m: EntityManager, organizerId: string, now: Date): Promise<{ instalmentId: string; orderId: string; seq: number; since: Date }[]> {
  const rows: Record<string, unknown>[] = await m.query(
    `SELECT i.id, p.order_id, i.seq, i.action_since FROM plan_instalment i JOIN payment_plan p ON p.id = i.plan_id
      WHERE p.organizer_id = $1 AND ${instalmentMachine.sqlIn('awaitingBuyer', 'i.state')}
        AND i.action_since + (p.grace_days * interval '1 day') < $2 ORDER BY i.action_since`, [organizerId, now]);
  return rows.map((r) => ({ instalmentId: String(r.id), orderId: String(r.order_id), seq: Number(r.seq), since: new Date(r.action_since as string) }));
}

/** The stored method the plan's instalments are charged to. */
export async function setPlanStoredMethod(tx: EntityManager, planId: string, storedMethodId: string): Promise<void> {
  await tx.query('UPDATE payment_plan SET stored_method_id = $2 WHERE id = $1', [planId, storedMethodId]);
}

/** When a due instalment is charged next (no state change: "charge now" on a scheduled one). */
export async function setInstalmentNextAttempt(tx: EntityManager, instalmentId: string, at: Date): Promise<void> {
  await tx.query('UPDATE plan_instalment SET next_attempt_at = $2 WHERE id = $1', [instalmentId, at]);
}

/** Remembers an unknown outcome (network error, 5xx): the claim stays, and runs out at `retryAt`. */
export async function noteChargeError(m: EntityManager, instalmentId: string, token: string, message: string, retryAt: Date): Promise<void> {
  await m.query(
    `UPDATE plan_instalment SET last_error = $3, lease_until = least(lease_until, $4) WHERE id = $1 AND claimed_by = $2 AND ${instalmentMachine.sqlIn('due', 'state')}`,
    [instalmentId, token, message.slice(0, 500), retryAt]);
}

/** The plan's last due date (the order is kept open until it, plus the grace period). */
export async function lastDueAt(m: EntityManager, planId: string): Promise<Date> {
  const [r]: { last: string }[] = await m.query('SELECT max(due_at) AS last FROM plan_instalment WHERE plan_id = $1', [planId]);
  return new Date(r!.last);
}

/** The claim token of a buyer paying an instalment on-session (run tokens are uuids). */
export const buyerHoldToken = 'buyer';

/**
 * The buyer's hold on an instalment they pay on-session: under the instalment's row lock, refused
 * ('busy') while a charge run holds it or its last charge's outcome is unknown (the run's token is
 * still on the row); otherwise the row is leased to the buyer until `until`, so no run claims it
 * meanwhile. 'settled': nothing to pay. null: the payment is no instalment.
 */
export async function holdInstalmentForBuyer(tx: EntityManager, paymentId: string, until: Date): Promise<'held' | 'busy' | 'settled' | null> {
  const found = await instalmentOfPayment(tx, paymentId);
  if (!found) return null;
  const { instalment } = await lockInstalment(tx, found.id);
  if (instalmentMachine.is('settled', instalment.state)) return 'settled';
  if (instalmentMachine.is('awaitingProvider', instalment.state)) return 'busy';
  if (instalment.claimedBy !== null && instalment.claimedBy !== buyerHoldToken) return 'busy';
  // The deposit is never claimed by a run: nothing to hold it against.
  if (instalmentMachine.is('onSession', instalment.state)) return 'held';
  const lease = instalment.leaseUntil && instalment.leaseUntil.getTime() > until.getTime() ? instalment.leaseUntil : until;
  await tx.query('UPDATE plan_instalment SET claimed_by = $2, lease_until = $3 WHERE id = $1', [instalment.id, buyerHoldToken, lease]);
  return 'held';
}
