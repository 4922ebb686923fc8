import { formatMoney, type PaymentWithOrder, type PluginHttpRequest, type PluginHttpResponse } from '@kassa/core';
import { stripeError } from '../errors';
import { checkRefreshLinkToken, completeSetup, refreshLinkToken, startSetup } from '../saved-methods/setup-intents';
import { STRIPE_ROUTE_PREFIX } from '../stripe-provider';
import type { StripeRuntime } from '../stripe-state';
import { eventAccount, type LinkParams } from './checkout-routes';

/*
 * The card refresh page (docs/payment-plans.md), linked from the buyer's order page when an
 * instalment waits for them: the Payment Element in setup mode saves a new card, which replaces
 * the old one for the remaining instalments; the waiting instalment is charged with it at the
 * next charge run. Links carry an HMAC of the payment id under the order's secret.
 */

/** The refresh link of an instalment's payment (for the order page and emails). */
export function cardRefreshUrl(baseUrl: string, order: { secret: string }, paymentId: string): string {
  return `${baseUrl}${STRIPE_ROUTE_PREFIX}/card/${paymentId}/${refreshLinkToken(order, paymentId)}`;
}

async function linked(req: PluginHttpRequest<LinkParams>, rt: StripeRuntime): Promise<PaymentWithOrder & { token: string }> {
  const { paymentId, token } = req.params;
  const found = await rt.payments.get(paymentId);
  if (!found || found.payment.provider !== 'stripe' || !checkRefreshLinkToken(found.order, found.payment.id, token)) {
    throw stripeError('STRIPE_PAYMENT_LINK_INVALID', { payment: paymentId });
  }
  return { ...found, token };
}

/** GET /plugins/stripe/card/:paymentId/:token — the page; only while the order has a running plan. */
export async function handleCardRefreshPage(req: PluginHttpRequest<LinkParams>, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const l = await linked(req, rt);
  const plan = await rt.payments.storedMethods.planOf(l.order.id);
  if (!plan || !plan.instalments.some((i) => !i.settled && i.paymentId === l.payment.id)) return { redirect: rt.payments.orderPageUrl(l) };
  const { settings } = await eventAccount(rt, l.event);
  const base = `${rt.baseUrl}${STRIPE_ROUTE_PREFIX}`;
  return {
    status: 200,
    title: 'Update your card',
    view: {
      partial: 'stripe/card-refresh',
      data: {
        publishableKey: settings.publishableKey ?? '', stripeJsUrl: settings.stripeJsUrl,
        setupUrl: `${base}/card-setup/${l.payment.id}/${l.token}`, returnUrl: `${base}/card-return/${l.payment.id}/${l.token}`,
        orderUrl: rt.payments.orderPageUrl(l), orderCode: l.order.code,
        amount: formatMoney({ amount: l.payment.amount, currency: l.payment.currency }, l.event.locale),
      },
    },
  };
}

/** POST /plugins/stripe/card-setup/:paymentId/:token — the SetupIntent's client secret. */
export async function handleCardSetup(req: PluginHttpRequest<LinkParams>, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const l = await linked(req, rt);
  if (!(await rt.payments.storedMethods.planOf(l.order.id))) return { status: 409, body: { error: { code: 'PLAN_NOT_OFFERED', message: 'This order has no payment plan.' }, orderUrl: rt.payments.orderPageUrl(l) } };
  const ctx = await eventAccount(rt, l.event);
  const si = await startSetup(rt, ctx.stripe, ctx.account.accountId, l, 'refresh');
  return { status: 200, headers: { 'cache-control': 'no-store' }, body: { clientSecret: si.client_secret } };
}

/** GET /plugins/stripe/card-return/:paymentId/:token — decided from the SetupIntent re-fetched on the server. */
export async function handleCardReturn(req: PluginHttpRequest<LinkParams>, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const l = await linked(req, rt);
  const ctx = await eventAccount(rt, l.event);
  const rows = await rt.db.query<{ setup_intent_id: string }>(
    `SELECT setup_intent_id FROM stripe_setup_intent WHERE payment_id = $1 AND purpose = 'refresh' AND completed_at IS NULL AND abandoned_at IS NULL ORDER BY created_at DESC`, [l.payment.id]);
  for (const r of rows) await completeSetup(rt, ctx.stripe, r.setup_intent_id);
  return { redirect: rt.payments.orderPageUrl(l) };
}
