import { KassaError, isKassaError, type PluginHttpRequest, type PluginHttpResponse } from '@kassa/core';
import { stringify } from 'csv-stringify/sync';
import type Stripe from 'stripe';
import { fromStripeAmount } from '../../amount';
import { stripeCall } from '../../intents';
import type { StripeRuntime } from '../../stripe-state';
import { CONNECT_PAGE } from '../connect-routes';
import { connectionAt, platformContext, type ConnectedAccount } from '../connected-accounts';
import { payoutOf, payoutsOf, type PayoutRow } from './payout-store';
import { decimal, reconcilePayout } from './reconciliation';

/*
 * The organizer's payouts (reference/stripe-spec.md §9.6): the connected account's balance per
 * currency, its payout schedule, and its payouts (Kassa's copy, kept by the `payout.*` events), and
 * for each payout what it contains, as a page and as CSV. Every route is the signed-in organizer's
 * alone: a payout id of another organizer is "not found", exactly like one that does not exist.
 */

export const PAYOUTS_PAGE = `${CONNECT_PAGE}/payouts`;

type Req = PluginHttpRequest<Record<string, string>, unknown>;

const notFound = (what = 'Page'): KassaError => new KassaError('NOT_FOUND', { entity: what });

function organizerOf(req: Req): string {
  if (!req.organizerId) throw new KassaError('AUTH_REQUIRED');
  return req.organizerId;
}

/** Balance lines (available and pending per currency) as decimal text in each currency's exponent. */
export function balanceView(balance: Stripe.Balance): { currency: string; available: string; pending: string }[] {
  const by = new Map<string, { available: number; pending: number }>();
  const add = (list: Stripe.Balance.Available[] | Stripe.Balance.Pending[], key: 'available' | 'pending') => {
    for (const b of list) {
      const m = fromStripeAmount(b.amount, b.currency);
      const row = by.get(m.currency) ?? { available: 0, pending: 0 };
      row[key] += m.amount;
      by.set(m.currency, row);
    }
  };
  add(balance.available, 'available');
  add(balance.pending, 'pending');
  return [...by.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([currency, v]) => ({ currency, available: decimal(v.available, currency), pending: decimal(v.pending, currency) }));
}

/** The account's payout schedule in words ("manual", "daily, 2 days delay", "weekly on monday"). */
export function scheduleView(account: Stripe.Account): string {
  const s = account.settings?.payouts?.schedule;
  if (!s) return 'unknown';
  const when = s.interval === 'weekly' && s.weekly_anchor ? ` on ${s.weekly_anchor}` : s.interval === 'monthly' && s.monthly_anchor ? ` on day ${s.monthly_anchor}` : '';
  const delay = s.interval !== 'manual' && s.delay_days !== undefined ? `, ${s.delay_days} days delay` : '';
  return `${s.interval}${when}${delay}`;
}

/** A payout as the pages show it. */
export function payoutView(p: PayoutRow, base: string): Record<string, unknown> {
  return {
    id: p.id, payoutId: p.payoutId, amount: decimal(p.amount, p.currency), currency: p.currency, status: p.payoutStatus, automatic: p.automatic,
    created: p.createdAt.toISOString().slice(0, 16).replace('T', ' '), arrival: p.arrivalDate ? p.arrivalDate.toISOString().slice(0, 10) : null,
    failure: p.failureMessage ? `${p.failureMessage}${p.failureCode ? ` (${p.failureCode})` : ''}` : null, lastError: p.lastError,
    url: `${base}/${p.id}`, csvUrl: `${base}/${p.id}/csv`,
  };
}

/** The account's balance and schedule, read from Stripe with the platform key acting on the account. */
export async function accountMoney(rt: StripeRuntime, c: Pick<ConnectedAccount, 'accountId'>): Promise<{ balances: ReturnType<typeof balanceView>; schedule: string }> {
  const { stripe } = await platformContext(rt);
  const [balance, account] = await Promise.all([
    stripeCall('read the balance', () => stripe.balance.retrieve({}, { stripeAccount: c.accountId })),
    stripeCall('read the connected account', () => stripe.accounts.retrieve(c.accountId)),
  ]);
  return { balances: balanceView(balance), schedule: scheduleView(account) };
}

/** GET /plugins/stripe/control/connect/payouts — balance, schedule and payouts of the organizer's account. */
export async function handlePayoutsPage(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const organizerId = organizerOf(req);
  const c = await connectionAt(rt, organizerId, null);
  const payouts = (await payoutsOf(rt, organizerId)).map((p) => payoutView(p, PAYOUTS_PAGE));
  // Kassa's copy of the payouts is shown even when Stripe cannot be asked for the balance right now.
  let money: Awaited<ReturnType<typeof accountMoney>> | null = null;
  let moneyError: string | null = null;
  if (c) {
    try {
      money = await accountMoney(rt, c);
    } catch (err) {
      if (!isKassaError(err)) throw err;
      moneyError = err.message;
    }
  }
  return {
    status: 200,
    title: 'Stripe payouts',
    view: { partial: 'stripe/connect-payouts', data: { connectUrl: CONNECT_PAGE, accountId: c?.accountId ?? null, accountType: c?.accountType ?? null, money, moneyError, payouts } },
  };
}

async function ownPayout(req: Req, rt: StripeRuntime): Promise<PayoutRow> {
  const p = await payoutOf(rt, organizerOf(req), req.params.payoutId ?? '');
  if (!p) throw notFound('Payout');
  return p;
}

/** GET …/payouts/:payoutId — what the payout contains, matched to Kassa's orders. */
export async function handlePayoutPage(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const p = await ownPayout(req, rt);
  const { stripe } = await platformContext(rt);
  const r = await reconcilePayout(rt, stripe, p);
  return {
    status: 200,
    title: 'Stripe payout',
    view: {
      partial: 'stripe/connect-payout',
      data: {
        payoutsUrl: PAYOUTS_PAGE, payout: payoutView(p, PAYOUTS_PAGE), unavailable: r.unavailable,
        totals: r.totals ? { amount: decimal(r.totals.amount, r.totals.currency), fee: decimal(r.totals.fee, r.totals.currency), net: decimal(r.totals.net, r.totals.currency), currency: r.totals.currency } : null,
        lines: r.lines.map((l) => ({
          ...l, created: l.created.toISOString().slice(0, 16).replace('T', ' '),
          amount: decimal(l.amount, l.currency), fee: decimal(l.fee, l.currency), net: decimal(l.net, l.currency),
          orderUrl: l.orderId ? `/control/orders/${l.orderId}` : null,
        })),
      },
    },
  };
}

/** The CSV's columns, in order (docs/stripe-connect.md, "Reconciliation"). */
export const RECONCILIATION_COLUMNS = ['payout', 'balance_transaction', 'kind', 'type', 'source', 'created', 'currency', 'amount', 'fee', 'net', 'order', 'event', 'payment', 'refund'] as const;

/** GET …/payouts/:payoutId/csv — the same lines as CSV; money as decimal text in the currency's exponent. */
export async function handlePayoutCsv(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const p = await ownPayout(req, rt);
  const { stripe } = await platformContext(rt);
  const r = await reconcilePayout(rt, stripe, p);
  const rows = r.lines.map((l) => [
    p.payoutId, l.transactionId, l.kind, l.type, l.source ?? '', l.created.toISOString(), l.currency,
    decimal(l.amount, l.currency), decimal(l.fee, l.currency), decimal(l.net, l.currency), l.orderCode ?? '', l.eventSlug ?? '', l.paymentId ?? '', l.refundId ?? '',
  ]);
  const csv = stringify(rows, { header: true, columns: [...RECONCILIATION_COLUMNS] });
  return {
    status: 200,
    headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="payout-${p.payoutId ?? p.id}.csv"`, 'cache-control': 'no-store' },
    body: csv,
  };
}
