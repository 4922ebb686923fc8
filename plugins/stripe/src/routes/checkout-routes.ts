import {
  eventSettings, formatMoney, paymentMachine, type EventRecord, type PaymentWithOrder, type PluginHttpRequest, type PluginHttpResponse,
} from '@kassa/core';
import { accountFrom, accountSelect } from '../db/stripe-rows';
import { stripeError } from '../errors';
import { OPEN_INTENT_STATES, checkPaymentLinkToken, createIntent, retrieveIntent } from '../intents';
import type { StripePaymentInfo } from '../payment-info';
import { remember, syncPayment } from '../reconcile';
import { STRIPE_NAMESPACE, clientFor, registerAccount, stripeSettingsFrom, type AccountContext } from '../stripe-account-context';
import { STRIPE_ROUTE_PREFIX } from '../stripe-provider';
import type { StripeRuntime } from '../stripe-state';
import { expressCheckoutView } from '../wallets/express-checkout-view';
import { connectPaymentContext, createConnectIntent } from '../connect/connect-context';
import { ensureStripeCustomer } from '../saved-methods/customers';
import { completeSetup, completedSetup, finishZeroAttempt, openSetups, startSetup } from '../saved-methods/setup-intents';

/** Path params of the buyer's pay, intent and return links. */
export type LinkParams = { paymentId: string; token: string };

type Linked = PaymentWithOrder & { token: string };

/** The payment named by a pay/return link, after checking the link's token; refusals name nothing secret. */
async function linked(req: PluginHttpRequest<LinkParams>, rt: StripeRuntime): Promise<Linked> {
  const { paymentId, token } = req.params;
  const found = await rt.payments.get(paymentId);
  if (!found || found.payment.provider !== 'stripe' || !checkPaymentLinkToken(found.order, found.payment.id, token)) {
    throw stripeError('STRIPE_PAYMENT_LINK_INVALID', { payment: paymentId });
  }
  return { ...found, token };
}

/**
 * Core's answer to "can this order still be paid?" (paid, canceled, past the last date of
 * payments, expired without late payments or quota). Asked before a client secret is handed out
 * or an intent created, so a buyer never pays for an order that cannot end up paid.
 */
async function refusal(rt: StripeRuntime, l: Linked): Promise<{ code: 'ORDER_NOT_PAYABLE'; message: string } | null> {
  const r = await rt.payments.payability(l.order.id);
  return r ? { code: r.code, message: `Order ${l.order.code} cannot be paid: ${r.reason}.` } : null;
}

/**
 * The Stripe account of an event, registered at the level its secret key is set on (so every
 * event sharing an organizer's keys shares one webhook endpoint).
 */
export async function eventAccount(rt: StripeRuntime, event: EventRecord): Promise<AccountContext> {
  const display = await rt.settings.getForDisplay(eventSettings(event), STRIPE_NAMESPACE);
  const scope = display.sources.secretKey ?? 'event';
  const target = scope === 'global' ? { scope: 'global' as const } : scope === 'organizer' ? { scope: 'organizer' as const, organizerId: event.organizerId } : eventSettings(event);
  const settings = stripeSettingsFrom(await rt.settings.resolve(eventSettings(event), STRIPE_NAMESPACE));
  const stripe = clientFor(settings, `event ${event.slug}`);
  const [known] = target.scope === 'global' ? await rt.db.query(`${accountSelect} WHERE scope = 'global' LIMIT 1`)
    : target.scope === 'organizer' ? await rt.db.query(`${accountSelect} WHERE scope = 'organizer' AND organizer_id = $1 LIMIT 1`, [event.organizerId])
      : await rt.db.query(`${accountSelect} WHERE scope = 'event' AND event_id = $1 LIMIT 1`, [event.id]);
  if (known) return { account: accountFrom(known), settings, stripe };
  const registered = await registerAccount(rt, target);
  return { ...registered, settings, stripe };
}

/**
 * GET /plugins/stripe/pay/:paymentId/:token — the pay page with the Payment Element. A payment
 * that is no longer open goes back to the order page.
 */
export async function handlePayPage(req: PluginHttpRequest<LinkParams>, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const l = await linked(req, rt);
  if (!paymentMachine.is('executable', l.payment.state)) return { redirect: rt.payments.orderPageUrl(l) };
  // The order page says why it cannot be paid.
  if (await refusal(rt, l)) return { redirect: rt.payments.orderPageUrl(l) };
  const info = l.payment.info as StripePaymentInfo;
  // A Connect payment: the platform's publishable key, and the connected account for direct charges.
  const connect = await connectPaymentContext(rt, l.event, info);
  const { settings, account } = connect ?? await eventAccount(rt, l.event);
  const intentId = info.intentId;
  // From here on the sync job and webhooks can find this payment's account without the buyer.
  if (intentId) await remember(rt, [{ objectId: intentId, kind: 'payment_intent', account: account.accountId, paymentId: l.payment.id, refundId: null }]);
  const base = `${rt.baseUrl}${STRIPE_ROUTE_PREFIX}`;
  // Nothing to charge (a plan without a deposit): the Payment Element in setup mode only saves the card.
  const setupMode = l.payment.amount === 0;
  const wallet = setupMode ? null : await expressCheckoutView(rt, {
    hostHeader: req.headers.host, accountId: connect?.stripeAccount || account.accountId, settings, money: { amount: l.payment.amount, currency: l.payment.currency }, businessName: l.event.name,
  });
  return {
    status: 200,
    title: setupMode ? 'Save your card' : 'Pay by card',
    view: {
      partial: 'stripe/payment-element', // plugin pages resolve "<plugin>/<name>"
      data: {
        publishableKey: settings.publishableKey ?? '',
        stripeAccount: connect?.stripeAccount ?? '',
        stripeJsUrl: settings.stripeJsUrl,
        intentUrl: `${base}/intent/${l.payment.id}/${l.token}`,
        returnUrl: `${base}/return/${l.payment.id}/${l.token}`,
        orderUrl: rt.payments.orderPageUrl(l),
        amount: formatMoney({ amount: l.payment.amount, currency: l.payment.currency }, l.event.locale),
        orderCode: l.order.code,
        setupMode,
        wallet,
      },
    },
  };
}

/**
 * POST /plugins/stripe/intent/:paymentId/:token — the client secret for the pay page. Creates the
 * intent if executePayment could not (same idempotency key, so never two intents per payment).
 */
export async function handleIntent(req: PluginHttpRequest<LinkParams>, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const l = await linked(req, rt);
  if (!paymentMachine.is('executable', l.payment.state)) return { status: 409, body: { error: { code: 'PAYMENT_NOT_EXECUTABLE', message: `This payment is ${l.payment.state}.` }, orderUrl: rt.payments.orderPageUrl(l) } };
  // Before Stripe is asked for anything: no intent is created and no client secret handed out.
  const refused = await refusal(rt, l);
  if (refused) return { status: 409, body: { error: refused, orderUrl: rt.payments.orderPageUrl(l) } };
  // An instalment of a plan: held against charge runs while the buyer pays it here, and paid with
  // the payment's one PaymentIntent (the run's, if it tried), so only one of the two can take money.
  const hold = await rt.payments.storedMethods.holdInstalment(l.payment.id);
  if (hold === 'settled') return { status: 409, body: { error: { code: 'PAYMENT_NOT_EXECUTABLE', message: 'This instalment is settled.' }, orderUrl: rt.payments.orderPageUrl(l) } };
  if (hold === 'busy') return { status: 409, body: { error: { code: 'INSTALMENT_BUSY', message: 'This instalment is being charged right now. Please reload this page in a few minutes.' } } };
  // Re-read after the hold: a charge run may have recorded its intent just before.
  let info = ((await rt.payments.get(l.payment.id))?.payment.info ?? l.payment.info) as StripePaymentInfo;
  if (l.payment.amount === 0) {
    // Nothing to charge now (a plan without a deposit): a SetupIntent saves the card for the instalments.
    const ctx = await eventAccount(rt, l.event);
    const si = await startSetup(rt, ctx.stripe, ctx.account.accountId, l, 'plan');
    return { status: 200, headers: { 'cache-control': 'no-store' }, body: { clientSecret: si.client_secret, mode: 'setup' } };
  }
  const created = info.intentId ? null : await createConnectIntent(rt, l);
  if (created) info = { ...info, connect: created.connect };
  const ctx = (await connectPaymentContext(rt, l.event, info)) ?? await eventAccount(rt, l.event);
  // Saving the card (plan deposit, "save this card"): the buyer's customer, asked for only when the intent is created.
  const customer = info.saveMethod === true && !created && !info.intentId ? await ensureStripeCustomer(rt, ctx.stripe, l.order.id) : null;
  const save = { customer, instalment: hold !== null };
  const pi = created?.pi ?? (info.intentId ? await retrieveIntent(ctx.stripe, info.intentId) : await createIntent(ctx.stripe, ctx.settings, l, undefined, save));
  await remember(rt, [{ objectId: pi.id, kind: 'payment_intent', account: ctx.account.accountId, paymentId: l.payment.id, refundId: null }]);
  if (!info.intentId) await rt.payments.recordInfo(l.payment.id, { intentId: pi.id, status: pi.status, captureMethod: pi.capture_method, ...(created ? { connect: created.connect } : {}) });
  if (!OPEN_INTENT_STATES.includes(pi.status)) {
    // Already decided at Stripe: apply it, and send the buyer to the order page.
    await syncPayment(rt, ctx.stripe, { paymentId: l.payment.id, intentId: pi.id, account: ctx.account.accountId });
    return { status: 409, body: { error: { code: 'PAYMENT_NOT_EXECUTABLE', message: `This payment is ${pi.status} at Stripe.` }, orderUrl: rt.payments.orderPageUrl(l) } };
  }
  return { status: 200, headers: { 'cache-control': 'no-store' }, body: { clientSecret: pi.client_secret } };
}

/**
 * GET /plugins/stripe/return/:paymentId/:token — where Stripe.js sends the buyer. The outcome is
 * decided from the intent re-fetched on the server; the query string (payment_intent,
 * redirect_status, the client secret) is ignored, since anyone can type it.
 */
export async function handleReturn(req: PluginHttpRequest<LinkParams>, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const l = await linked(req, rt);
  if (l.payment.amount === 0) {
    // The card setup of a plan without a deposit: decided from the SetupIntents re-fetched on the server.
    const ctx = await eventAccount(rt, l.event);
    for (const id of await openSetups(rt, l.payment.id, 'plan')) await completeSetup(rt, ctx.stripe, id);
    // Saved (here, or by the webhook a moment ago): the attempt of 0 is done.
    const done = await completedSetup(rt, l.payment.id, 'plan');
    if (done) await finishZeroAttempt(rt, l.payment.id, done);
    const after = (await rt.payments.get(l.payment.id))?.payment ?? l.payment;
    if (paymentMachine.is('executable', after.state) && !(await refusal(rt, l))) return { redirect: `${rt.baseUrl}${STRIPE_ROUTE_PREFIX}/pay/${l.payment.id}/${l.token}` };
    return { redirect: rt.payments.orderPageUrl(l) };
  }
  const intentId = (l.payment.info as StripePaymentInfo).intentId;
  if (intentId) {
    const ctx = (await connectPaymentContext(rt, l.event, l.payment.info as StripePaymentInfo)) ?? await eventAccount(rt, l.event);
    await syncPayment(rt, ctx.stripe, { paymentId: l.payment.id, intentId, account: ctx.account.accountId });
    const after = (await rt.payments.get(l.payment.id))?.payment ?? l.payment;
    // requires_action or an abandoned authentication: back to the pay page to complete or retry,
    // unless the order can no longer be paid (then the order page says why). Whatever Stripe
    // reports is applied first: money that did move is never dropped.
    if (paymentMachine.is('executable', after.state) && !(await refusal(rt, l))) return { redirect: `${rt.baseUrl}${STRIPE_ROUTE_PREFIX}/pay/${l.payment.id}/${l.token}` };
  }
  return { redirect: rt.payments.orderPageUrl(l) };
}
