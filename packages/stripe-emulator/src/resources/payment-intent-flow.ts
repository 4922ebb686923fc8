import { cardFor, SEPA_TEST_IBANS, type CardBehaviour, type TestCard } from '../cards';
import type { Emulator } from '../emulator';
import { ApiError } from '../errors';
import type { AccountState } from '../store';
import type { Charge, ErrorDetails, NextAction, PaymentIntent, PaymentMethod } from '../types';
import { expiredCancellationReason } from '../versions';
import { createCharge, settleCharge } from './charges';
import { createDispute } from './disputes';
import { attachPaymentMethod, cardNumberOf } from './payment-methods';

/** What the caller asked for in this confirmation (§1.8). */
export interface ConfirmOptions {
  offSession: boolean;
  errorOnRequiresAction: boolean;
  /** Stripe.js or `use_stripe_sdk=true`: next_action is `use_stripe_sdk`, not `redirect_to_url`. */
  useStripeSdk: boolean;
  returnUrl: string | null;
}

type Failure = { code: string; decline_code?: string; message: string };

const docUrl = (code: string): string => `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`;

/** The PI subset a publishable key may read (§1.11). */
export function restrictedPaymentIntent(pi: PaymentIntent): Record<string, unknown> {
  const keys = ['id', 'object', 'amount', 'canceled_at', 'cancellation_reason', 'capture_method', 'client_secret', 'confirmation_method', 'created', 'currency', 'description', 'last_payment_error', 'livemode', 'next_action', 'payment_method', 'payment_method_types', 'receipt_email', 'setup_future_usage', 'status'] as const;
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = pi[k];
  return out;
}

export function challengeUrl(emu: Emulator, intentId: string): string {
  return `${emu.baseUrl}/_emulator/3ds/${intentId}`;
}

export function nextActionFor(emu: Emulator, intentId: string, opts: { useStripeSdk: boolean; returnUrl: string | null }): NextAction {
  const url = challengeUrl(emu, intentId);
  return opts.useStripeSdk
    ? { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: url, source: intentId } }
    : { type: 'redirect_to_url', redirect_to_url: { url, return_url: opts.returnUrl } };
}

/**
 * Runs one confirmation attempt with `pm` and applies §1.3. Declines and off-session
 * authentication failures leave the PI in requires_payment_method and throw the 402
 * `card_error` Stripe returns, carrying the PI.
 */
export function attemptPayment(emu: Emulator, account: AccountState, pi: PaymentIntent, pm: PaymentMethod, opts: ConfirmOptions): void {
  if (!pi.payment_method_types.includes(pm.type)) {
    throw new ApiError(400, 'invalid_request_error', `The PaymentMethod provided (${pm.type}) is not allowed for this PaymentIntent. Please attach a PaymentMethod of one of the following types: ${pi.payment_method_types.join(', ')}.`, {
      code: 'payment_intent_incompatible_payment_method',
      param: 'payment_method',
    });
  }
  pi.payment_method = pm.id;
  pi.last_payment_error = null;
  if (pm.type === 'sepa_debit') return startDebit(emu, account, pi, pm);
  // A saved card can expire while it waits for the next instalment (the emulator clock moves with advanceClock).
  if (pm.card && cardExpired(emu, pm)) return failPayment(emu, account, pi, pm, { code: 'expired_card', decline_code: 'expired_card', message: 'Your card has expired.' }, true);
  const behaviour = effectiveBehaviour(pi, cardFor(cardNumberOf(account, pm.id)));
  if (behaviour.kind === 'decline') return failPayment(emu, account, pi, pm, behaviour, true);
  if (behaviour.kind === 'decline_on_charge') return failPayment(emu, account, pi, pm, { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' }, true);
  if (behaviour.kind === 'three_ds' && !account.authenticatedIntents.has(pi.id)) {
    if (opts.offSession) {
      const passes = behaviour.offSession === 'never' || (behaviour.offSession === 'unless_setup' && account.setUpPaymentMethods.has(pm.id));
      if (!passes) {
        const message = 'Your card was declined. This transaction requires authentication.';
        return failPayment(emu, account, pi, pm, { code: 'authentication_required', decline_code: 'authentication_required', message }, true);
      }
      return afterAuthentication(emu, account, pi, pm, behaviour);
    }
    if (opts.errorOnRequiresAction) {
      return failPayment(emu, account, pi, pm, { code: 'authentication_required', decline_code: 'authentication_required', message: 'This payment requires authentication, and error_on_requires_action was set.' }, true);
    }
    pi.status = 'requires_action';
    pi.next_action = nextActionFor(emu, pi.id, opts);
    emu.emit(account, 'payment_intent.requires_action', pi);
    return;
  }
  account.authenticatedIntents.delete(pi.id);
  return afterAuthentication(emu, account, pi, pm, behaviour);
}

/** True once the emulator clock is past the card's expiry month. */
export function cardExpired(emu: Emulator, pm: PaymentMethod): boolean {
  if (!pm.card) return false;
  const now = new Date(emu.nowMs());
  const y = now.getUTCFullYear();
  return pm.card.exp_year < y || (pm.card.exp_year === y && pm.card.exp_month < now.getUTCMonth() + 1);
}

/**
 * `payment_method_options[card][request_three_d_secure]=any|challenge` sends cards that
 * support 3DS through the challenge even when the issuer would not ask for it.
 */
function effectiveBehaviour(pi: PaymentIntent, card: TestCard): CardBehaviour {
  const forced = pi.payment_method_options.card.request_three_d_secure !== 'automatic';
  if (forced && card.behaviour.kind === 'succeed' && card.brand !== 'amex') return { kind: 'three_ds', offSession: 'never' };
  return card.behaviour;
}

function afterAuthentication(emu: Emulator, account: AccountState, pi: PaymentIntent, pm: PaymentMethod, behaviour: CardBehaviour, throwOnFailure = true): void {
  if (behaviour.kind === 'three_ds' && behaviour.thenDecline) return failPayment(emu, account, pi, pm, behaviour.thenDecline, throwOnFailure);
  authorize(emu, account, pi, pm);
}

/** A declined attempt: failed charge, PI back to requires_payment_method, 402 with the PI (§1.3). */
export function failPayment(emu: Emulator, account: AccountState, pi: PaymentIntent, pm: PaymentMethod, failure: Failure, throwError: boolean): void {
  const ch = createCharge(emu, account, pi, pm, { ok: false, failure });
  pi.latest_charge = ch.id;
  pi.status = 'requires_payment_method';
  pi.next_action = null;
  pi.payment_method = null;
  const error: ErrorDetails = {
    type: 'card_error',
    code: failure.code,
    decline_code: failure.decline_code,
    message: failure.message,
    charge: ch.id,
    payment_method: structuredClone(pm),
    doc_url: docUrl(failure.code),
  };
  pi.last_payment_error = error;
  emu.emit(account, 'charge.failed', ch);
  emu.emit(account, 'payment_intent.payment_failed', pi);
  if (throwError) {
    throw new ApiError(402, 'card_error', failure.message, {
      code: failure.code,
      decline_code: failure.decline_code,
      charge: ch.id,
      doc_url: error.doc_url,
      payment_intent: structuredClone(pi),
      payment_method: structuredClone(pm),
      request_log_url: null,
    });
  }
}

/** Successful authorization: manual capture waits in requires_capture, otherwise captures at once. */
function authorize(emu: Emulator, account: AccountState, pi: PaymentIntent, pm: PaymentMethod): void {
  const ch = createCharge(emu, account, pi, pm, { ok: true });
  pi.latest_charge = ch.id;
  pi.next_action = null;
  if (pi.setup_future_usage && pi.customer) {
    attachPaymentMethod({ emu, account }, pm, pi.customer);
    account.setUpPaymentMethods.add(pm.id);
  } else if (!pm.customer) {
    account.consumedPaymentMethods.add(pm.id);
  }
  // §1.4: payment_method_options[card][capture_method] overrides the PI's capture method.
  if ((pi.payment_method_options.card.capture_method ?? pi.capture_method) === 'manual') {
    pi.status = 'requires_capture';
    pi.amount_capturable = pi.amount;
    emu.emit(account, 'charge.succeeded', ch);
    emu.emit(account, 'payment_intent.amount_capturable_updated', pi);
    return;
  }
  capture(emu, account, pi, ch, pi.amount, false);
}

/** Captures `amount` of the authorization; the remainder is released (basil+: no refund object). */
export function capture(emu: Emulator, account: AccountState, pi: PaymentIntent, ch: Charge, amount: number, wasManual: boolean): void {
  ch.captured = true;
  ch.amount_captured = amount;
  pi.amount_received = amount;
  pi.amount_capturable = 0;
  pi.status = 'succeeded';
  const async = !wasManual && pi.capture_method === 'automatic_async';
  if (!async) settleCharge(emu, account, ch);
  if (wasManual) emu.emit(account, 'charge.captured', ch);
  else emu.emit(account, 'charge.succeeded', ch);
  emu.emit(account, 'payment_intent.succeeded', pi);
  if (async) {
    // §1.3: balance transaction (and Connect transfer / fee) arrive later with charge.updated.
    emu.scheduler.later(emu.options.delays.asyncCaptureBalanceMs, `charge ${ch.id} balance`, () => {
      settleCharge(emu, account, ch);
      emu.emit(account, 'charge.updated', ch, { balance_transaction: null, transfer: null, application_fee: null }, emu.options.defaultApiVersion);
    });
  }
  const card = cardFor(cardNumberOf(account, ch.payment_method ?? ''));
  if (card.dispute) createDispute(emu, account, ch, card.dispute.kind, card.dispute.reason);
}

/**
 * Bank debits (SEPA) are asynchronous (§1.2): the PI waits in `processing` with a pending
 * charge until the debit settles; the test IBAN decides how (§10.6).
 */
function startDebit(emu: Emulator, account: AccountState, pi: PaymentIntent, pm: PaymentMethod): void {
  const ch = createCharge(emu, account, pi, pm, { ok: true });
  pi.latest_charge = ch.id;
  pi.status = 'processing';
  pi.next_action = null;
  emu.emit(account, 'payment_intent.processing', pi);
  emu.emit(account, 'charge.pending', ch);
  const outcome = SEPA_TEST_IBANS[cardNumberOf(account, pm.id)] ?? { outcome: 'succeeded' as const };
  emu.scheduler.later(emu.options.delays.debitSettlementMs, `payment_intent ${pi.id} debit`, () => {
    if (pi.status === 'processing') settleDebit(emu, account, pi, outcome.outcome === 'succeeded', outcome.dispute === true);
  });
}

/** The asynchronous debit settles: `processing` → `succeeded` or back to `requires_payment_method`. */
export function settleDebit(emu: Emulator, account: AccountState, pi: PaymentIntent, success: boolean, dispute = false): void {
  const ch = pi.latest_charge ? account.get<Charge>('charge', pi.latest_charge) : undefined;
  if (pi.status !== 'processing' || !ch) {
    throw new ApiError(400, 'invalid_request_error', `This PaymentIntent is not processing (status ${pi.status}).`, { code: 'payment_intent_unexpected_state' });
  }
  const pm = pi.payment_method ? account.get<PaymentMethod>('payment_method', pi.payment_method) : undefined;
  if (success) {
    ch.status = 'succeeded';
    ch.paid = true;
    if (pm && pi.setup_future_usage && pi.customer) {
      attachPaymentMethod({ emu, account }, pm, pi.customer);
      account.setUpPaymentMethods.add(pm.id);
    }
    capture(emu, account, pi, ch, pi.amount, false);
    if (dispute) createDispute(emu, account, ch, 'chargeback', 'debit_not_authorized');
    return;
  }
  ch.status = 'failed';
  ch.failure_code = 'insufficient_funds';
  ch.failure_message = 'The account has insufficient funds to cover this payment.';
  pi.status = 'requires_payment_method';
  pi.payment_method = null;
  pi.last_payment_error = {
    type: 'invalid_request_error',
    code: 'payment_intent_payment_attempt_failed',
    decline_code: 'insufficient_funds',
    message: 'The latest payment attempt of this PaymentIntent has failed: the debit was returned (insufficient funds).',
    charge: ch.id,
    payment_method: pm ? structuredClone(pm) : undefined,
  };
  emu.emit(account, 'charge.failed', ch);
  emu.emit(account, 'payment_intent.payment_failed', pi);
}

/** The buyer (or a test) finished the 3DS challenge (§1.3 rows from requires_action). */
export function completeAuthentication(emu: Emulator, account: AccountState, pi: PaymentIntent, success: boolean): void {
  const pm = pi.payment_method ? account.get<PaymentMethod>('payment_method', pi.payment_method) : undefined;
  if (pi.status !== 'requires_action' || !pm) {
    throw new ApiError(400, 'invalid_request_error', `This PaymentIntent is not awaiting authentication (status ${pi.status}).`, { code: 'payment_intent_unexpected_state' });
  }
  if (!success) {
    pi.status = 'requires_payment_method';
    pi.next_action = null;
    pi.payment_method = null;
    pi.last_payment_error = {
      type: 'invalid_request_error',
      code: 'payment_intent_authentication_failure',
      message: 'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.',
      payment_method: structuredClone(pm),
      doc_url: docUrl('payment_intent_authentication_failure'),
    };
    emu.emit(account, 'payment_intent.payment_failed', pi);
    return;
  }
  if (pi.setup_future_usage) account.setUpPaymentMethods.add(pm.id);
  if (pi.confirmation_method === 'manual') {
    // §1.3: with manual confirmation the server has to confirm again.
    pi.status = 'requires_confirmation';
    pi.next_action = null;
    account.authenticatedIntents.add(pi.id);
    return;
  }
  afterAuthentication(emu, account, pi, pm, effectiveBehaviour(pi, cardFor(cardNumberOf(account, pm.id))), false);
}

/** The authorization window ended (§1.3): canceled, `expired` (basil+) / `automatic` before. */
export function expireAuthorization(emu: Emulator, account: AccountState, pi: PaymentIntent, apiVersion: string): void {
  if (pi.status !== 'requires_capture') {
    throw new ApiError(400, 'invalid_request_error', `Only an authorization (requires_capture) can expire; this PaymentIntent is ${pi.status}.`, { code: 'payment_intent_unexpected_state' });
  }
  const ch = pi.latest_charge ? account.get<Charge>('charge', pi.latest_charge) : undefined;
  pi.status = 'canceled';
  pi.amount_capturable = 0;
  pi.canceled_at = emu.nowSeconds();
  pi.cancellation_reason = expiredCancellationReason(apiVersion);
  if (ch) emu.emit(account, 'charge.expired', ch);
  emu.emit(account, 'payment_intent.canceled', pi);
}
