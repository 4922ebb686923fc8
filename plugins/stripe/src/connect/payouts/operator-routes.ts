import { randomUUID } from 'node:crypto';
import { KassaError, currencyExponent, isKassaError, type PluginHttpResponse } from '@kassa/core';
import type Stripe from 'stripe';
import { toStripeAmount } from '../../amount';
import { stripeCall } from '../../intents';
import type { StripeRuntime } from '../../stripe-state';
import { CONNECT_PAGE } from '../connect-routes';
import { refundFeePolicyFor, chargeModelFor } from '../connect-settings';
import { createConnectWebhookEndpoint } from '../connect-webhook';
import { platformContext, type ConnectedAccount } from '../connected-accounts';
import { accountMoney, payoutView } from './payout-routes';
import { formField, operatorOnly, requestIdOf, uuid, type OperatorRequest } from '../../routes/operator-forms';
import { claimPayoutRequest, failPayoutRequest, payoutsOf, savePayout } from './payout-store';

/*
 * The instance operator's side of Connect payouts: every connected account, its balance and
 * schedule, a manual payout schedule (to hold a risky account's money, §9.6), a payout on request,
 * and the platform's Connect webhook endpoint. Routes with permission 'operator': organizers'
 * teams, admins included, get "not found". Each form carries a request id made when the page was
 * drawn; it is the row (and the idempotency key) of the Stripe call, so a double submit acts once.
 */

export const OPERATOR_PAGE = `${CONNECT_PAGE}/operator`;

type Req = OperatorRequest;

const notFound = (what = 'Page'): KassaError => new KassaError('NOT_FOUND', { entity: what });
const field = formField;

const columns = 'id, organizer_id, event_id, account_id, account_type, country, livemode, test_publishable_key, charges_enabled, payouts_enabled, details_submitted, requirements';

/** A live connection by our row id (any organizer: this is the operator's view). */
async function connectionById(rt: StripeRuntime, id: string): Promise<ConnectedAccount> {
  if (!uuid.test(id)) throw notFound('Connected account');
  const [r] = await rt.db.query(`SELECT ${columns} FROM stripe_connected_account WHERE id = $1 AND disconnected_at IS NULL`, [id]);
  if (!r) throw notFound('Connected account');
  return {
    id: String(r.id), organizerId: String(r.organizer_id), eventId: (r.event_id as string | null) ?? null, accountId: String(r.account_id),
    accountType: String(r.account_type), country: (r.country as string | null) ?? null, livemode: r.livemode === true,
    testPublishableKey: (r.test_publishable_key as string | null) ?? null, chargesEnabled: r.charges_enabled === true, payoutsEnabled: r.payouts_enabled === true, detailsSubmitted: r.details_submitted === true,
    requirements: (r.requirements as Record<string, unknown>) ?? {},
  };
}

const NOTICES: Record<string, string> = {
  endpoint: 'The Connect webhook endpoint is created at Stripe; its signing secret is kept by Kassa.',
  schedule: 'The payout schedule is saved at Stripe.',
  payout: 'The payout is created at Stripe.',
};

const noticeOf = (req: Req): string | null => (typeof req.query.notice === 'string' ? NOTICES[req.query.notice] ?? null : null);

/** GET /plugins/stripe/control/connect/operator — every live connection, and the Connect endpoint(s). */
export async function handleOperatorPage(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  operatorOnly(req);
  const rows = await rt.db.query(
    `SELECT id, organizer_id, event_id, account_id, account_type, charges_enabled, payouts_enabled FROM stripe_connected_account WHERE disconnected_at IS NULL ORDER BY connected_at DESC LIMIT 500`,
  );
  const endpoints = await rt.db.query<{ endpoint_id: string; created_at: Date }>('SELECT endpoint_id, created_at FROM stripe_connect_endpoint ORDER BY created_at DESC');
  return {
    status: 200,
    title: 'Stripe Connect (operator)',
    view: {
      partial: 'stripe/connect-operator',
      data: {
        notice: noticeOf(req),
        requestId: randomUUID(),
        endpointUrl: `${OPERATOR_PAGE}/webhook-endpoint`,
        endpoints: endpoints.map((e) => ({ id: e.endpoint_id, created: new Date(e.created_at).toISOString().slice(0, 16).replace('T', ' ') })),
        accounts: rows.map((r) => ({
          url: `${OPERATOR_PAGE}/accounts/${String(r.id)}`, organizerId: String(r.organizer_id), eventId: r.event_id ?? null, accountId: String(r.account_id),
          type: String(r.account_type), chargesEnabled: r.charges_enabled === true, payoutsEnabled: r.payouts_enabled === true,
        })),
      },
    },
  };
}

/**
 * POST …/operator/webhook-endpoint — creates the platform's Connect endpoint at Stripe (connect=true,
 * the pinned API version), like the account endpoint's button; the form's request id is the key.
 */
export async function handleOperatorEndpoint(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  operatorOnly(req);
  await createConnectWebhookEndpoint(rt, { requestId: requestIdOf(req) });
  return { redirect: `${OPERATOR_PAGE}?notice=endpoint`, status: 303 };
}

/** GET …/operator/accounts/:connectionId — one account: balance, schedule, payouts, policy, and the forms. */
export async function handleOperatorAccount(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  operatorOnly(req);
  const c = await connectionById(rt, req.params.connectionId ?? '');
  const money = await accountMoney(rt, c);
  const { settings } = await platformContext(rt);
  const base = `${OPERATOR_PAGE}/accounts/${c.id}`;
  const payouts = (await payoutsOf(rt, c.organizerId, { accountId: c.accountId, includeRequests: true })).map((p) => payoutView(p, `${CONNECT_PAGE}/payouts`));
  return {
    status: 200,
    title: 'Stripe connected account (operator)',
    view: {
      partial: 'stripe/connect-operator-account',
      data: {
        operatorUrl: OPERATOR_PAGE, notice: noticeOf(req), error: typeof req.query.error === 'string' ? req.query.error.slice(0, 300) : null,
        accountId: c.accountId, organizerId: c.organizerId, type: c.accountType, chargeModel: chargeModelFor(settings, c.organizerId),
        refundFeePolicy: refundFeePolicyFor(settings, c.organizerId), money, payouts,
        currencies: money.balances.map((b) => b.currency),
        scheduleUrl: `${base}/schedule`, payoutUrl: `${base}/payouts`,
        scheduleRequestId: randomUUID(), payoutRequestId: randomUUID(),
      },
    },
  };
}

const INTERVALS = ['manual', 'daily', 'weekly', 'monthly'] as const;
const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;

/** The schedule a form asks for; a 400 naming the field otherwise. */
export function scheduleFrom(form: { interval: string; weeklyAnchor: string; monthlyAnchor: string }): Stripe.AccountUpdateParams.Settings.Payouts.Schedule {
  const interval = INTERVALS.find((i) => i === form.interval);
  if (!interval) throw new KassaError('VALIDATION_FAILED', { field: 'interval', detail: `interval must be one of ${INTERVALS.join(', ')}` });
  if (interval === 'weekly') {
    const anchor = WEEKDAYS.find((d) => d === form.weeklyAnchor);
    if (!anchor) throw new KassaError('VALIDATION_FAILED', { field: 'weekly_anchor', detail: `weekly_anchor must be one of ${WEEKDAYS.join(', ')}` });
    return { interval, weekly_anchor: anchor };
  }
  if (interval === 'monthly') {
    const day = Number(form.monthlyAnchor);
    if (!/^\d{1,2}$/.test(form.monthlyAnchor) || day < 1 || day > 31) throw new KassaError('VALIDATION_FAILED', { field: 'monthly_anchor', detail: 'monthly_anchor must be a day of the month, 1 to 31' });
    return { interval, monthly_anchor: day };
  }
  return { interval };
}

/** POST …/operator/accounts/:connectionId/schedule — the account's payout schedule at Stripe (manual holds the money). */
export async function handleOperatorSchedule(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  operatorOnly(req);
  const c = await connectionById(rt, req.params.connectionId ?? '');
  const schedule = scheduleFrom({ interval: field(req, 'interval'), weeklyAnchor: field(req, 'weekly_anchor'), monthlyAnchor: field(req, 'monthly_anchor') });
  const requestId = requestIdOf(req);
  const { stripe } = await platformContext(rt);
  await stripeCall('set the payout schedule', () => stripe.accounts.update(
    c.accountId, { settings: { payouts: { schedule } } }, { idempotencyKey: `kassa-connect-${c.id}-schedule-${requestId}` },
  ));
  return { redirect: `${OPERATOR_PAGE}/accounts/${c.id}?notice=schedule`, status: 303 };
}

/** Decimal text in the currency's exponent ("12.50") → our minor units; a 400 naming `amount` otherwise. */
export function amountFrom(text: string, currency: string): number {
  const exponent = currencyExponent(currency);
  if (exponent === undefined) throw new KassaError('VALIDATION_FAILED', { field: 'currency', detail: 'currency: not an ISO 4217 currency' });
  const m = /^(\d{1,12})(?:[.,](\d+))?$/.exec(text);
  if (!m || (m[2] ?? '').length > exponent) throw new KassaError('VALIDATION_FAILED', { field: 'amount', detail: `amount: a positive amount with at most ${exponent} decimals` });
  const minor = Number(m[1]) * 10 ** exponent + Number((m[2] ?? '').padEnd(exponent, '0') || '0');
  if (!Number.isSafeInteger(minor) || minor <= 0) throw new KassaError('VALIDATION_FAILED', { field: 'amount', detail: 'amount: a positive amount' });
  return minor;
}

/**
 * POST …/operator/accounts/:connectionId/payouts — a payout of the account's available balance
 * (amount, currency). The request row is written first; its id is Stripe's idempotency key and
 * goes into the payout's metadata, so a double submit, a retry or the `payout.created` event all
 * end on the one row and one payout. Stripe's refusal (not enough available) is kept on the row
 * and shown on the page.
 */
export async function handleOperatorPayout(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  operatorOnly(req);
  const c = await connectionById(rt, req.params.connectionId ?? '');
  const currency = field(req, 'currency').toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency)) throw new KassaError('VALIDATION_FAILED', { field: 'currency', detail: 'currency: a three-letter ISO 4217 code' });
  const amount = amountFrom(field(req, 'amount'), currency);
  const requestId = requestIdOf(req);
  const back = `${OPERATOR_PAGE}/accounts/${c.id}`;
  const row = await claimPayoutRequest(rt, { requestId, organizerId: c.organizerId, accountId: c.accountId, amount, currency });
  if (!row) throw new KassaError('VALIDATION_FAILED', { field: 'requestId', detail: 'requestId: this request belongs to another account; reload the page' });
  if (row.payoutId) return { redirect: `${back}?notice=payout`, status: 303 };
  const { stripe } = await platformContext(rt);
  let po: Stripe.Payout;
  try {
    po = await stripeCall('create the payout', () => stripe.payouts.create(
      { ...toStripeAmount({ amount: row.amount, currency: row.currency }), metadata: { kassa_payout_request: row.id } },
      { stripeAccount: c.accountId, idempotencyKey: `kassa-connect-payout-${row.id}` },
    ));
  } catch (err) {
    if (!isKassaError(err)) throw err;
    await failPayoutRequest(rt, row.id, err.message);
    return { redirect: `${back}?error=${encodeURIComponent(err.message)}`, status: 303 };
  }
  await savePayout(rt, c.organizerId, c.accountId, po);
  return { redirect: `${back}?notice=payout`, status: 303 };
}
