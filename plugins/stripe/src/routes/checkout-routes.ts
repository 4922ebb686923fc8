import {
  Event, KassaError, Order, Organizer, OrderPayment, eventSettings, formatMoney, type PluginHttpRequest, type PluginHttpResponse, type PluginRuntime,
} from '@kassa/core';
import { OPEN_INTENT_STATES, checkPaymentLinkToken, createIntent, retrieveIntent } from '../intents';
import type { StripePaymentInfo } from '../payment-info';
import { mergeInfo, remember, syncPayment } from '../reconcile';
import { STRIPE_NAMESPACE, clientFor, registerAccount, stripeSettingsFrom, type AccountContext } from '../stripe-account-context';
import { STRIPE_ROUTE_PREFIX } from '../stripe-provider';
import { StripeAccount } from '../entities/stripe-entities';

interface Linked {
  payment: OrderPayment;
  order: Order;
  event: Event;
  organizer: Organizer;
  token: string;
}

/** The payment named by a pay/return link, after checking the link's token; refusals name nothing secret. */
async function linked(req: PluginHttpRequest, rt: PluginRuntime): Promise<Linked> {
  const { paymentId = '', token = '' } = req.params;
  const m = rt.dataSource.manager;
  const payment = /^[0-9a-f-]{36}$/i.test(paymentId) ? await m.findOneBy(OrderPayment, { id: paymentId }) : null;
  const order = payment ? await m.findOneBy(Order, { id: payment.orderId }) : null;
  if (!payment || !order || payment.provider !== 'stripe' || !checkPaymentLinkToken(order, payment.id, token)) {
    throw new KassaError('STRIPE_PAYMENT_LINK_INVALID', { payment: paymentId });
  }
  const event = await m.findOneByOrFail(Event, { id: order.eventId });
  const organizer = await m.findOneByOrFail(Organizer, { id: event.organizerId });
  return { payment, order, event, organizer, token };
}

/**
 * Core's answer to "can this order still be paid?" (paid, canceled, past the last date of
 * payments, expired without late payments or quota). Asked before a client secret is handed out
 * or an intent created, so a buyer never pays for an order that cannot end up paid.
 */
async function refusal(rt: PluginRuntime, l: Linked): Promise<{ code: 'ORDER_NOT_PAYABLE'; message: string } | null> {
  const r = await rt.core.orders.paymentRefusal(l.order.id);
  return r ? { code: 'ORDER_NOT_PAYABLE', message: `Order ${l.order.code} cannot be paid: ${r.reason}.` } : null;
}

export function orderPageUrl(rt: Pick<PluginRuntime, 'baseUrl'>, l: Pick<Linked, 'organizer' | 'event' | 'order'>): string {
  return `${rt.baseUrl}/${l.organizer.slug}/${l.event.slug}/order/${l.order.code}/${l.order.secret}/`;
}

/**
 * The Stripe account of an event, registered at the level its secret key is set on (so every
 * event sharing an organizer's keys shares one webhook endpoint).
 */
export async function eventAccount(rt: PluginRuntime, event: Event): Promise<AccountContext> {
  const display = await rt.settings.getForDisplay(eventSettings(event), STRIPE_NAMESPACE);
  const scope = display.sources.secretKey ?? 'event';
  const target = scope === 'global' ? { scope: 'global' as const } : scope === 'organizer' ? { scope: 'organizer' as const, organizerId: event.organizerId } : eventSettings(event);
  const settings = stripeSettingsFrom(await rt.settings.resolve(eventSettings(event), STRIPE_NAMESPACE));
  const stripe = clientFor(settings, `event ${event.slug}`);
  const known = await rt.dataSource.manager.findOne(StripeAccount, {
    where: target.scope === 'global' ? { scope: 'global' } : target.scope === 'organizer' ? { scope: 'organizer', organizerId: event.organizerId } : { scope: 'event', eventId: event.id },
  });
  if (known) return { account: known, settings, stripe };
  const registered = await registerAccount(rt, target);
  return { ...registered, settings, stripe };
}

/**
 * GET /plugins/stripe/pay/:paymentId/:token — the pay page with the Payment Element. A payment
 * that is no longer open goes back to the order page.
 */
export async function handlePayPage(req: PluginHttpRequest, rt: PluginRuntime): Promise<PluginHttpResponse> {
  const l = await linked(req, rt);
  if (l.payment.state !== 'created') return { redirect: orderPageUrl(rt, l) };
  // The order page says why it cannot be paid.
  if (await refusal(rt, l)) return { redirect: orderPageUrl(rt, l) };
  const { settings, account } = await eventAccount(rt, l.event);
  const intentId = (l.payment.info as StripePaymentInfo).intentId;
  // From here on the sync job and webhooks can find this payment's account without the buyer.
  if (intentId) await remember(rt.dataSource, [{ objectId: intentId, kind: 'payment_intent', account: account.accountId, paymentId: l.payment.id, refundId: null }]);
  const base = `${rt.baseUrl}${STRIPE_ROUTE_PREFIX}`;
  return {
    status: 200,
    title: 'Pay by card',
    view: {
      partial: 'stripe/payment-element', // plugin pages resolve "<plugin>/<name>"
      data: {
        publishableKey: settings.publishableKey ?? '',
        stripeJsUrl: settings.stripeJsUrl,
        intentUrl: `${base}/intent/${l.payment.id}/${l.token}`,
        returnUrl: `${base}/return/${l.payment.id}/${l.token}`,
        orderUrl: orderPageUrl(rt, l),
        amount: formatMoney({ amount: l.payment.amount, currency: l.payment.currency.trim() }, l.event.locale),
        orderCode: l.order.code,
      },
    },
  };
}

/**
 * POST /plugins/stripe/intent/:paymentId/:token — the client secret for the pay page. Creates the
 * intent if executePayment could not (same idempotency key, so never two intents per payment).
 */
export async function handleIntent(req: PluginHttpRequest, rt: PluginRuntime): Promise<PluginHttpResponse> {
  const l = await linked(req, rt);
  if (l.payment.state !== 'created') return { status: 409, body: { error: { code: 'PAYMENT_NOT_EXECUTABLE', message: `This payment is ${l.payment.state}.` }, orderUrl: orderPageUrl(rt, l) } };
  // Before Stripe is asked for anything: no intent is created and no client secret handed out.
  const refused = await refusal(rt, l);
  if (refused) return { status: 409, body: { error: refused, orderUrl: orderPageUrl(rt, l) } };
  const ctx = await eventAccount(rt, l.event);
  const info = l.payment.info as StripePaymentInfo;
  const pi = info.intentId ? await retrieveIntent(ctx.stripe, info.intentId) : await createIntent(ctx.stripe, ctx.settings, l);
  await remember(rt.dataSource, [{ objectId: pi.id, kind: 'payment_intent', account: ctx.account.accountId, paymentId: l.payment.id, refundId: null }]);
  if (!info.intentId) await mergeInfo(rt.dataSource, l.payment.id, { intentId: pi.id, status: pi.status, captureMethod: pi.capture_method });
  if (!OPEN_INTENT_STATES.includes(pi.status)) {
    // Already decided at Stripe: apply it, and send the buyer to the order page.
    await syncPayment({ core: rt.core, dataSource: rt.dataSource }, ctx.stripe, { paymentId: l.payment.id, intentId: pi.id, account: ctx.account.accountId });
    return { status: 409, body: { error: { code: 'PAYMENT_NOT_EXECUTABLE', message: `This payment is ${pi.status} at Stripe.` }, orderUrl: orderPageUrl(rt, l) } };
  }
  return { status: 200, headers: { 'cache-control': 'no-store' }, body: { clientSecret: pi.client_secret } };
}

/**
 * GET /plugins/stripe/return/:paymentId/:token — where Stripe.js sends the buyer. The outcome is
 * decided from the intent re-fetched on the server; the query string (payment_intent,
 * redirect_status, the client secret) is ignored, since anyone can type it.
 */
export async function handleReturn(req: PluginHttpRequest, rt: PluginRuntime): Promise<PluginHttpResponse> {
  const l = await linked(req, rt);
  const intentId = (l.payment.info as StripePaymentInfo).intentId;
  if (intentId) {
    const ctx = await eventAccount(rt, l.event);
    await syncPayment({ core: rt.core, dataSource: rt.dataSource }, ctx.stripe, { paymentId: l.payment.id, intentId, account: ctx.account.accountId });
    const after = await rt.dataSource.manager.findOneByOrFail(OrderPayment, { id: l.payment.id });
    // requires_action or an abandoned authentication: back to the pay page to complete or retry,
    // unless the order can no longer be paid (then the order page says why). Whatever Stripe
    // reports is applied first: money that did move is never dropped.
    if (after.state === 'created' && !(await refusal(rt, l))) return { redirect: `${rt.baseUrl}${STRIPE_ROUTE_PREFIX}/pay/${l.payment.id}/${l.token}` };
  }
  return { redirect: orderPageUrl(rt, l) };
}
