import type Stripe from 'stripe';
import { fromStripeAmount } from '../../amount';
import type { StripeRuntime } from '../../stripe-state';

/*
 * Kassa's copy of connected accounts' payouts (table stripe_connect_payout, migration
 * 1768300000000). Written from a payout Stripe returned (re-fetched for every `payout.*` event, so
 * the order of delivery does not matter) and by the operator's payout requests. Read only within
 * one organizer: every query of the organizer's pages names its organizer id.
 */

/** A payout as the pages show it; amounts in our minor units. */
export interface PayoutRow {
  readonly id: string;
  readonly organizerId: string;
  readonly accountId: string;
  readonly payoutId: string | null;
  readonly amount: number;
  readonly currency: string;
  /** Stripe's status (pending, in_transit, paid, failed, canceled), or `requested` before Stripe answered. */
  readonly payoutStatus: string;
  readonly automatic: boolean;
  readonly arrivalDate: Date | null;
  readonly failureCode: string | null;
  readonly failureMessage: string | null;
  readonly createdAt: Date;
  readonly requestedByOperator: boolean;
  readonly lastError: string | null;
}

const columns = `id, organizer_id, account_id, payout_id, amount::text AS amount, currency, payout_status, automatic, arrival_date, failure_code, failure_message,
  COALESCE(stripe_created, created_at) AS created_at, requested_by_operator, last_error`;

function rowFrom(r: Record<string, unknown>): PayoutRow {
  const date = (v: unknown) => (v ? new Date(v as string) : null);
  return {
    id: String(r.id), organizerId: String(r.organizer_id), accountId: String(r.account_id), payoutId: (r.payout_id as string | null) ?? null,
    amount: Number(r.amount), currency: String(r.currency).trim(), payoutStatus: String(r.payout_status), automatic: r.automatic === true,
    arrivalDate: date(r.arrival_date), failureCode: (r.failure_code as string | null) ?? null, failureMessage: (r.failure_message as string | null) ?? null,
    createdAt: new Date(r.created_at as string), requestedByOperator: r.requested_by_operator === true, lastError: (r.last_error as string | null) ?? null,
  };
}

/** The organizer owning an account's payouts: the organizer of its latest connection (also after a disconnect), or null. */
export async function organizerOfAccount(rt: Pick<StripeRuntime, 'db'>, accountId: string): Promise<string | null> {
  const [row] = await rt.db.query('SELECT organizer_id FROM stripe_connected_account WHERE account_id = $1 ORDER BY connected_at DESC LIMIT 1', [accountId]);
  return row ? String(row.organizer_id) : null;
}

/** The payout's fields in our units. */
function fieldsOf(po: Stripe.Payout): { amount: number; currency: string; arrival: Date | null; created: Date | null } {
  const m = fromStripeAmount(po.amount, po.currency);
  return { amount: m.amount, currency: m.currency, arrival: po.arrival_date ? new Date(po.arrival_date * 1000) : null, created: po.created ? new Date(po.created * 1000) : null };
}

/**
 * Stores a payout Stripe returned. A payout made on the operator's request carries the request's
 * row id in its metadata (`kassa_payout_request`): that row is completed, so the request and the
 * `payout.created` event never make two rows, whichever comes first.
 */
export async function savePayout(rt: Pick<StripeRuntime, 'db'>, organizerId: string, accountId: string, po: Stripe.Payout): Promise<PayoutRow> {
  const f = fieldsOf(po);
  const values = [po.id, f.amount, f.currency, po.status, po.automatic === true, f.arrival, po.failure_code ?? null, po.failure_message ?? null, f.created];
  const request = po.metadata?.kassa_payout_request;
  if (request && /^[0-9a-f-]{36}$/i.test(request)) {
    const [done] = await rt.db.query(
      `UPDATE stripe_connect_payout SET payout_id = $1, amount = $2, currency = $3, payout_status = $4, automatic = $5, arrival_date = $6, failure_code = $7,
              failure_message = $8, stripe_created = $9, last_error = NULL, updated_at = now()
        WHERE id = $10 AND account_id = $11 AND (payout_id IS NULL OR payout_id = $1) RETURNING ${columns}`,
      [...values, request, accountId],
    );
    if (done) return rowFrom(done);
  }
  const [row] = await rt.db.query(
    `INSERT INTO stripe_connect_payout (payout_id, amount, currency, payout_status, automatic, arrival_date, failure_code, failure_message, stripe_created, organizer_id, account_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (payout_id) DO UPDATE SET amount = EXCLUDED.amount, payout_status = EXCLUDED.payout_status, arrival_date = EXCLUDED.arrival_date,
       failure_code = EXCLUDED.failure_code, failure_message = EXCLUDED.failure_message, updated_at = now()
     RETURNING ${columns}`,
    [...values, organizerId, accountId],
  );
  return rowFrom(row as Record<string, unknown>);
}

/**
 * The organizer's payouts, newest first (at most `limit`). The operator's requests Stripe has not
 * turned into a payout (refused: not enough available) only with `includeRequests` (the operator's page).
 */
export async function payoutsOf(
  rt: Pick<StripeRuntime, 'db'>, organizerId: string, opts: { accountId?: string; limit?: number; includeRequests?: boolean } = {},
): Promise<PayoutRow[]> {
  const rows = await rt.db.query(
    `SELECT ${columns} FROM stripe_connect_payout WHERE organizer_id = $1 AND ($2::text IS NULL OR account_id = $2) AND ($4::boolean OR payout_id IS NOT NULL)
      ORDER BY COALESCE(stripe_created, created_at) DESC, id LIMIT $3`,
    [organizerId, opts.accountId ?? null, Math.min(opts.limit ?? 100, 500), opts.includeRequests === true],
  );
  return rows.map(rowFrom);
}

/** One payout of this organizer by our row id; null for anything else (another organizer's, a malformed id). */
export async function payoutOf(rt: Pick<StripeRuntime, 'db'>, organizerId: string, id: string): Promise<PayoutRow | null> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return null;
  const [row] = await rt.db.query(`SELECT ${columns} FROM stripe_connect_payout WHERE id = $1 AND organizer_id = $2`, [id, organizerId]);
  return row ? rowFrom(row) : null;
}

/**
 * Claims an operator's payout request: the row is the idempotency key of the Stripe call, so the
 * same request id (a double submit of one form) finds its row again and makes no second payout.
 * Null when the id is already used for another account.
 */
export async function claimPayoutRequest(
  rt: Pick<StripeRuntime, 'db'>, input: { requestId: string; organizerId: string; accountId: string; amount: number; currency: string },
): Promise<PayoutRow | null> {
  await rt.db.query(
    `INSERT INTO stripe_connect_payout (id, organizer_id, account_id, amount, currency, payout_status, automatic, requested_by_operator)
     VALUES ($1, $2, $3, $4, $5, 'requested', false, true) ON CONFLICT (id) DO NOTHING`,
    [input.requestId, input.organizerId, input.accountId, input.amount, input.currency],
  );
  const [row] = await rt.db.query(`SELECT ${columns} FROM stripe_connect_payout WHERE id = $1 AND account_id = $2`, [input.requestId, input.accountId]);
  return row ? rowFrom(row) : null;
}

/** Keeps Stripe's refusal of a request on its row (shown to the operator); the row stays `requested`. */
export async function failPayoutRequest(rt: Pick<StripeRuntime, 'db'>, id: string, message: string): Promise<void> {
  await rt.db.query('UPDATE stripe_connect_payout SET last_error = $2, updated_at = now() WHERE id = $1 AND payout_id IS NULL', [id, message.slice(0, 500)]);
}
