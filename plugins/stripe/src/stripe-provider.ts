import {
  BasePaymentProvider, KassaError, formatMoney, paymentMachine, type AvailabilityQuery, type Money, type OrderPayment, type PaymentCallInput,
  type PaymentOutcome, type ProviderContext, type ProviderEnvironment, type RefundCallInput, type RefundOutcome, type ViewModel,
  type OffSessionChargeInput, type OffSessionOutcome, type StoredMethodRef,
} from '@kassa/core';
import { isStripeRepresentable, toStripeAmount } from './amount';
import { stripeError } from './errors';
import { clientFor, stripeSettingsFrom } from './stripe-account-context';
import { cancelIntent, createIntent, createRefund, paymentLinkToken } from './intents';
import { shredInfo, type StripePaymentInfo } from './payment-info';
import { STRIPE_JS_URL, stripeSettingsCheck, stripeSettingsSchema, type StripeSettings } from './settings-schema';
import { refundVerdict } from './status-map';
import { refundFeePolicyFor } from './connect/connect-settings';
import { connectClientFor, connectRefundFlags, connectionOf, connectChargeFor, connectInfo, connectIntentExtras, hasPlatform, platformClient, reverseSeparateTransfer } from './connect/connect-charge';
import { chargeOffSession } from './saved-methods/off-session';
import { RequestPacer } from './saved-methods/request-pacer';
import { savedMethodKeys } from './saved-methods/customers';
import { cardRefreshUrl } from './routes/card-refresh-routes';
import { isLiveMode } from './settings-schema';
import type Stripe from 'stripe';

/** Where the plugin's routes live (the server mounts plugin routes under /plugins/<name>). */
export const STRIPE_ROUTE_PREFIX = '/plugins/stripe';

export function payPageUrl(baseUrl: string, payment: Pick<OrderPayment, 'id'>, token: string): string {
  return `${baseUrl}${STRIPE_ROUTE_PREFIX}/pay/${payment.id}/${token}`;
}

/**
 * Stripe with the Payment Element. executePayment creates the PaymentIntent on the server (our
 * amount, Stripe's exponents, an idempotency key from the payment row) and sends the buyer to the
 * plugin's pay page, where Stripe.js confirms it; the return route then decides from the intent
 * re-fetched on the server. Webhooks, polling and the sync job apply later changes.
 */
export class StripeProvider extends BasePaymentProvider<StripeSettings, StripePaymentInfo> {
  readonly identifier = 'stripe';
  readonly verboseName = 'Stripe';
  override get publicName(): string {
    return 'Credit card';
  }
  override readonly priority = 200;
  /** An open intent (requires action, authorized) can be abandoned: the buyer may retry or switch. */
  override readonly abortPendingAllowed = true;
  override readonly settingsSchema = stripeSettingsSchema;
  override settingsCheck(values: Readonly<Record<string, unknown>>): string | null {
    return stripeSettingsCheck(values);
  }

  /** Saved cards and off-session charges (docs/payment-plans.md). */
  override readonly storesMethods = true;
  /**
   * Per account key: one pacer (the account's rate limit holds for every request of this
   * process) and one client (off-session runs make thousands of calls).
   */
  private readonly offSession = new Map<string, { pacer: RequestPacer; stripe: Stripe }>();

  constructor(_env?: ProviderEnvironment) {
    super();
  }

  /** The pacer and client of the account behind these settings. */
  accountPacer(settings: StripeSettings, scope: string): { pacer: RequestPacer; stripe: Stripe } {
    const key = `${settings.secretKey ?? ''}|${settings.apiBase}`;
    let hit = this.offSession.get(key);
    const limit = settings.requestsPerSecond ?? (isLiveMode(settings) ? 100 : 25);
    if (!hit || hit.pacer.limit !== limit) {
      hit = { pacer: new RequestPacer(limit), stripe: clientFor(settings, scope) };
      this.offSession.set(key, hit);
    }
    return hit;
  }

  /** An instalment charged off-session with the saved card: Stripe's recipe, paced to the account's rate limit. */
  override async chargeStoredMethod(ctx: ProviderContext<StripeSettings>, call: OffSessionChargeInput): Promise<OffSessionOutcome> {
    const { pacer, stripe } = this.accountPacer(stripeSettingsFrom(ctx.settings), `event ${ctx.event.slug}`);
    const returnUrl = `${ctx.baseUrl}${STRIPE_ROUTE_PREFIX}/return/${call.payment.id}/${paymentLinkToken(call.order, call.payment.id)}`;
    return chargeOffSession(stripe, pacer, call, ctx.event, returnUrl);
  }

  /** The buyer removed the card: detach it from the customer, so it can never be charged again. */
  override async removeStoredMethod(ctx: ProviderContext<StripeSettings>, method: StoredMethodRef): Promise<void> {
    const { pacer, stripe } = this.accountPacer(stripeSettingsFrom(ctx.settings), `event ${ctx.event.slug}`);
    await pacer.run(() => stripe.paymentMethods.detach(method.reference, {}, { idempotencyKey: savedMethodKeys.detach(method.id) }));
  }

  /**
   * Stripe.js, its frames (3DS, wallets) and API, plus the configured Stripe.js/API origins (the
   * emulator in development). The server asks once at boot, with empty settings.
   */
  override contentSecurityPolicy(ctx: ProviderContext<StripeSettings>): { scriptSrc: string[]; frameSrc: string[]; connectSrc: string[] } {
    const s = (ctx?.settings ?? {}) as Partial<StripeSettings>;
    const extra = [s.stripeJsUrl, s.apiBase].filter((u): u is string => typeof u === 'string' && u.length > 0).map((u) => new URL(u).origin);
    const stripeJs = new URL(STRIPE_JS_URL).origin;
    return {
      scriptSrc: [stripeJs, ...extra],
      frameSrc: [stripeJs, 'https://hooks.stripe.com', ...extra],
      connectSrc: ['https://api.stripe.com', ...extra],
    };
  }

  /** Only with both keys set, and for amounts Stripe can represent (three-decimal currencies end in 0). */
  override isAllowed(ctx: ProviderContext<StripeSettings>, query: AvailabilityQuery): boolean {
    const s = stripeSettingsFrom(ctx.settings);
    // A connected organizer (or event) is charged through the platform, only while Stripe lets the
    // account take charges; a connection that does not verify is no connection, never a fallback.
    if (s.connectAccount) return hasPlatform(s) && connectionOf(s, ctx.event)?.chargesEnabled === true && isStripeRepresentable(query.total);
    return Boolean(s.secretKey && s.publishableKey) && isStripeRepresentable(query.total);
  }

  /** The method's panel at checkout: card entry follows on the pay page, once the order exists. */
  override paymentFormRender(ctx: ProviderContext<StripeSettings>, total: Money): ViewModel | null {
    const s = stripeSettingsFrom(ctx.settings);
    return {
      partial: 'stripe/checkout',
      data: {
        publishableKey: s.publishableKey ?? '', stripeJsUrl: s.stripeJsUrl, captureMethod: s.captureMethod,
        amount: toStripeAmount(total).amount, currency: total.currency.toLowerCase(),
        display: formatMoney(total, ctx.event?.locale ?? 'en'),
      },
    };
  }

  /**
   * Creates (or, on a retry, finds again by its idempotency key) the PaymentIntent and hands the
   * buyer to the pay page. Moves no money by itself: the buyer confirms in the browser.
   */
  async executePayment(ctx: ProviderContext<StripeSettings>, call: PaymentCallInput & { session: Record<string, unknown> }): Promise<PaymentOutcome> {
    const settings = stripeSettingsFrom(ctx.settings);
    // Saving the card needs the buyer's Stripe customer (core's port, on the pay page): the intent is created there.
    if (call.session.saveMethod === true && !settings.connectAccount) {
      const token = paymentLinkToken(call.order, call.payment.id);
      return { kind: 'requires_action', redirectUrl: payPageUrl(ctx.baseUrl, call.payment, token), info: { saveMethod: true } };
    }
    const charge = settings.connectAccount ? connectChargeFor(settings, ctx.event, { amount: call.payment.amount, currency: call.payment.currency.trim() }) : null;
    if (settings.connectAccount && !charge) throw stripeError('STRIPE_NOT_CONFIGURED', { scope: `event ${ctx.event.slug}`, detail: 'the Stripe Connect connection does not verify (connect the account again)' });
    const stripe = charge ? platformClient(settings, charge.model === 'direct' ? charge.account : undefined) : clientFor(settings, `event ${ctx.event.slug}`);
    const pi = await createIntent(stripe, settings, { payment: call.payment, order: call.order, event: ctx.event }, charge ? connectIntentExtras(charge, call.order) : undefined);
    const token = paymentLinkToken(call.order, call.payment.id);
    return {
      kind: 'requires_action',
      redirectUrl: payPageUrl(ctx.baseUrl, call.payment, token),
      info: { intentId: pi.id, status: pi.status, captureMethod: pi.capture_method, ...(charge ? { connect: connectInfo(charge, call.order) } : {}) },
    };
  }

  /** On the order page: a link back to the pay page while the intent can still be completed. */
  override paymentPendingRender(ctx: ProviderContext<StripeSettings>, call: PaymentCallInput): ViewModel | null {
    const info = call.payment.info as StripePaymentInfo;
    // A plan's instalment that needs the buyer (docs/payment-plans.md): the card refresh page.
    const planAction = (call.payment.info as { planAction?: string }).planAction;
    if (planAction && paymentMachine.is('executable', call.payment.state)) {
      // Pay the instalment now (the same PaymentIntent the charge run tried: Stripe's on-session recipe),
      // or save another card for it and the rest of the plan.
      return {
        partial: 'stripe/pending',
        data: {
          status: 'requires_payment_method', authorized: false, processing: false,
          payUrl: payPageUrl(ctx.baseUrl, call.payment, paymentLinkToken(call.order, call.payment.id)),
          refreshUrl: cardRefreshUrl(ctx.baseUrl, call.order, call.payment.id),
          lastError: planAction === 'authentication' ? 'Your bank asks you to confirm this instalment: complete the payment, or use another card.' : 'This instalment could not be charged: please pay it or enter another card.',
        },
      };
    }
    if (!info.intentId) return null;
    const status = info.status ?? 'requires_payment_method';
    return {
      partial: 'stripe/pending',
      data: {
        status,
        authorized: status === 'requires_capture',
        processing: status === 'processing',
        payUrl: paymentMachine.is('executable', call.payment.state) ? payPageUrl(ctx.baseUrl, call.payment, paymentLinkToken(call.order, call.payment.id)) : null,
        lastError: info.lastError?.message ?? null,
      },
    };
  }

  /** Control panel: intent, card, 3DS outcome, dispute with its due date, capture actions. */
  override paymentControlRender(ctx: ProviderContext<StripeSettings>, call: PaymentCallInput): ViewModel | null {
    const info = call.payment.info as StripePaymentInfo;
    const live = /^(sk|rk)_live_/.test(String((ctx.settings as Partial<StripeSettings>)?.secretKey ?? ''));
    return {
      partial: 'stripe/control',
      data: {
        paymentId: call.payment.id,
        intentId: info.intentId ?? null,
        status: info.status ?? null,
        cardBrand: info.card?.brand ?? null,
        cardLast4: info.card?.last4 ?? null,
        threeDSecure: info.threeDSecure ?? null,
        dispute: info.dispute ?? null,
        canCapture: info.status === 'requires_capture' && paymentMachine.is('inTransit', call.payment.state),
        captureUrl: `${STRIPE_ROUTE_PREFIX}/control/payments/${call.payment.id}/capture`,
        releaseUrl: `${STRIPE_ROUTE_PREFIX}/control/payments/${call.payment.id}/release`,
        dashboardUrl: info.intentId ? `https://dashboard.stripe.com/${live ? '' : 'test/'}payments/${info.intentId}` : null,
        shredded: info._shredded === true,
        connect: info.connect ? {
          model: info.connect.model, account: info.connect.account, transferId: info.connect.transferId ?? null,
          fee: formatMoney(info.connect.applicationFee, ctx.event?.locale ?? 'en'),
        } : null,
      },
    };
  }

  override paymentPresaleRender(payment: OrderPayment): string {
    const card = (payment.info as StripePaymentInfo).card;
    return card?.brand && card.last4 ? `${card.brand[0]?.toUpperCase()}${card.brand.slice(1)} ****${card.last4}` : this.publicName;
  }

  override paymentRefundSupported(payment: OrderPayment): boolean {
    return typeof (payment.info as StripePaymentInfo).intentId === 'string';
  }

  override paymentPartialRefundSupported(payment: OrderPayment): boolean {
    return this.paymentRefundSupported(payment);
  }

  /** A Stripe refund keyed by our refund row: pending → transit, succeeded → done, failed → failed. */
  override async executeRefund(ctx: ProviderContext<StripeSettings>, call: RefundCallInput): Promise<RefundOutcome> {
    const intentId = (call.payment?.info as StripePaymentInfo | undefined)?.intentId;
    if (!call.payment || !intentId) throw new KassaError('REFUND_NOT_SUPPORTED', { provider: this.identifier, payment: call.payment?.id ?? '-' });
    const info = call.payment.info as StripePaymentInfo;
    const stripe = connectClientFor(stripeSettingsFrom(ctx.settings), info) ?? clientFor(stripeSettingsFrom(ctx.settings), `event ${ctx.event.slug}`);
    const r = await createRefund(stripe, {
      intentId, refundId: call.refund.id, paymentId: call.payment.id, amount: { amount: call.refund.amount, currency: call.refund.currency.trim() },
      ...(info.connect ? { connect: connectRefundFlags(info.connect, refundFeePolicyFor(stripeSettingsFrom(ctx.settings), ctx.event.organizerId)) } : {}),
    });
    const reversal = info.connect && ['done', 'transit'].includes(refundVerdict(r.status))
      ? await reverseSeparateTransfer(stripeSettingsFrom(ctx.settings), info.connect, { id: call.refund.id, amount: call.refund.amount }, call.payment)
      : null;
    const refundInfo = { stripeRefundId: r.id, stripeStatus: r.status, ...reversal };
    switch (refundVerdict(r.status)) {
      case 'done': return { kind: 'done', externalId: r.id, info: refundInfo };
      case 'transit': return { kind: 'transit', externalId: r.id, info: refundInfo };
      default: return { kind: 'failed', message: `Stripe reports the refund ${r.status ?? 'failed'}${r.failure_reason ? ` (${r.failure_reason})` : ''}`, code: r.failure_reason ?? 'refund_failed', info: refundInfo };
    }
  }

  /** Before core cancels an open attempt: cancel its intent (releases an authorization). */
  override async cancelPayment(ctx: ProviderContext<StripeSettings>, call: PaymentCallInput): Promise<void> {
    const info = call.payment.info as StripePaymentInfo;
    const intentId = info.intentId;
    if (!intentId) return;
    const settings = stripeSettingsFrom(ctx.settings);
    const stripe = connectClientFor(settings, info) ?? clientFor(settings, `event ${ctx.event.slug}`);
    await cancelIntent(stripe, call.payment, intentId, 'abandoned');
  }

  /** GDPR: keep the intent and charge ids and the amounts; drop card and billing details. */
  override shredPaymentInfo(info: StripePaymentInfo | Record<string, unknown>): Record<string, unknown> {
    return shredInfo(info as Record<string, unknown>);
  }

  override apiPaymentDetails(payment: OrderPayment): Record<string, unknown> {
    const info = payment.info as StripePaymentInfo;
    return {
      intentId: info.intentId ?? null, chargeId: info.chargeId ?? null, status: info.status ?? null,
      cardBrand: info.card?.brand ?? null, cardLast4: info.card?.last4 ?? null, dispute: info.dispute ?? null,
      // Payments charged through Stripe Connect only: model, connected account, platform fee.
      ...(info.connect ? { connect: { model: info.connect.model, account: info.connect.account, applicationFee: info.connect.applicationFee, transferId: info.connect.transferId ?? null } } : {}),
    };
  }

  override matchingId(payment: OrderPayment): string | null {
    return (payment.info as StripePaymentInfo).intentId ?? null;
  }
}
