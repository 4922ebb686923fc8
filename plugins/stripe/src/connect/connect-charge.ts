import { type Money } from '@kassa/core';
import type Stripe from 'stripe';
import { toStripeAmount } from '../amount';
import { stripeError } from '../errors';
import type { StripeSettings } from '../settings-schema';
import { createStripeClient } from '../stripe-client';
import { chargeModelFor, feeRuleFor, type ChargeModel, type RefundFeePolicy } from './connect-settings';
import { verifyConnection, type ConnectionClaim } from './connection-token';
import { platformFee } from './platform-fee';

/** How one payment is charged through Connect: on which account, by which model, with what fee. */
export interface ConnectCharge {
  readonly model: ChargeModel;
  /** The connected account (acct_…) the money is for. */
  readonly account: string;
  /** The platform's fee, in our minor units of the payment's currency. */
  readonly fee: Money;
  /** Destination charges across borders settle on the connected account (on_behalf_of). */
  readonly onBehalfOf: boolean;
  readonly platformAccount: string;
}

/** What the provider keeps of it in the payment's info (shown in the control panel and the API). */
export interface ConnectPaymentInfo {
  readonly model: ChargeModel;
  readonly account: string;
  /** The account the charge lives on: the connected one (direct) or the platform. */
  readonly chargeAccount: string;
  readonly applicationFee: { amount: number; currency: string };
  /** Separate charges: the order's transfer group, and the transfer once made. */
  readonly transferGroup?: string | null;
  readonly transferId?: string | null;
}

/** The connection of an event as its resolved settings carry it (signed), or null. */
export function connectionOf(settings: Pick<StripeSettings, 'platformSecretKey' | 'connectAccount'>, event: { id: string; organizerId: string }): ConnectionClaim | null {
  return verifyConnection(settings.platformSecretKey, settings.connectAccount, event);
}

/** Whether the platform's keys are set (Connect is on at this instance). */
export function hasPlatform(settings: Pick<StripeSettings, 'platformSecretKey' | 'platformPublishableKey'>): boolean {
  return Boolean(settings.platformSecretKey && settings.platformPublishableKey);
}

/**
 * The Connect charge for a payment of this event, or null when the event has no (valid) connection.
 * The charge model and fee are the operator's (instance settings, with the organizer's override).
 */
export function connectChargeFor(settings: StripeSettings, event: { id: string; organizerId: string }, amount: Money): ConnectCharge | null {
  const claim = connectionOf(settings, event);
  if (!claim || !hasPlatform(settings)) return null;
  const model = chargeModelFor(settings, event.organizerId);
  return {
    model,
    account: claim.accountId,
    fee: platformFee(amount, feeRuleFor(settings, event.organizerId, amount.currency)),
    onBehalfOf: model === 'destination' && claim.crossBorder === true,
    platformAccount: claim.platformAccount,
  };
}

/** The transfer group of an order's separate charges. */
export function transferGroupOf(orderId: string): string {
  return `kassa-order-${orderId}`;
}

/** Intent parameters and request options of a Connect charge (reference/stripe-spec.md §9.4). */
export function connectIntentExtras(c: ConnectCharge, order: { id: string }): { params: Partial<Stripe.PaymentIntentCreateParams>; stripeAccount?: string } {
  const fee = c.fee.amount > 0 ? { application_fee_amount: toStripeAmount(c.fee).amount } : {};
  switch (c.model) {
    case 'direct':
      return { params: fee, stripeAccount: c.account };
    case 'destination':
      return { params: { ...fee, transfer_data: { destination: c.account }, ...(c.onBehalfOf ? { on_behalf_of: c.account } : {}) } };
    case 'separate':
      // The platform keeps the fee by transferring less, after the charge succeeded (connect-transfer-job.ts).
      return { params: { transfer_group: transferGroupOf(order.id) } };
  }
}

export function connectInfo(c: ConnectCharge, order: { id: string }): ConnectPaymentInfo {
  return {
    model: c.model, account: c.account, chargeAccount: c.model === 'direct' ? c.account : c.platformAccount,
    applicationFee: { amount: c.fee.amount, currency: c.fee.currency },
    ...(c.model === 'separate' ? { transferGroup: transferGroupOf(order.id), transferId: null } : {}),
  };
}

/** A client with the platform's key, acting on `stripeAccount` when given (direct charges). */
export function platformClient(settings: StripeSettings, stripeAccount?: string): Stripe {
  return createStripeClient({
    secretKey: settings.platformSecretKey as string,
    ...(settings.apiBase ? { apiBase: settings.apiBase } : {}),
    maxNetworkRetries: settings.maxNetworkRetries,
    timeoutMs: settings.timeoutMs,
    ...(stripeAccount ? { stripeAccount } : {}),
  });
}

/**
 * The client for calls on an existing Connect payment (capture, cancel, refund): the platform's,
 * acting on the connected account for direct charges. Null for a payment made without Connect.
 */
export function connectClientFor(settings: StripeSettings, info: { connect?: ConnectPaymentInfo }): Stripe | null {
  if (!info.connect) return null;
  if (!settings.platformSecretKey) throw stripeError('STRIPE_NOT_CONFIGURED', { scope: 'Connect', detail: 'the operator has set no platform secret key (platformSecretKey)' });
  return platformClient(settings, info.connect.model === 'direct' ? info.connect.account : undefined);
}

/**
 * Refund flags per charge model and the organizer's fee policy (reference/stripe-spec.md §9.5,
 * connect-settings.ts REFUND_FEE_POLICIES). Stripe returns a destination charge's fee only together
 * with the transfer, so "fee back, transfer kept" does not exist. Separate charges are refunded by
 * the platform and their transfer reversed apart, whatever the policy.
 */
export function connectRefundFlags(c: Pick<ConnectPaymentInfo, 'model'>, policy: RefundFeePolicy = 'reverse_both'): Pick<Stripe.RefundCreateParams, 'reverse_transfer' | 'refund_application_fee'> {
  switch (c.model) {
    case 'destination':
      if (policy === 'keep_fee') return {};
      return policy === 'reverse_both' ? { reverse_transfer: true, refund_application_fee: true } : { reverse_transfer: true };
    case 'direct': return policy === 'reverse_both' ? { refund_application_fee: true } : {};
    case 'separate': return {};
  }
}

/**
 * Separate charges and transfers: a refund does not pull the transfer back by itself (§9.5), so the
 * platform reverses the refunded share of it, keyed by the refund row. Its failure never undoes
 * the refund (the money already went back to the buyer): it is returned for the refund's info.
 */
export async function reverseSeparateTransfer(
  settings: StripeSettings, c: ConnectPaymentInfo, refund: { id: string; amount: number }, payment: { amount: number; currency: string },
): Promise<{ transferReversalId: string } | { transferReversalError: string } | null> {
  if (c.model !== 'separate' || !c.transferId || payment.amount <= 0) return null;
  const stripe = platformClient(settings);
  try {
    const transfer = await stripe.transfers.retrieve(c.transferId);
    // The refunded share of what was transferred, in Stripe's units, rounded down (never more than is left).
    const share = Math.floor((transfer.amount * refund.amount) / payment.amount);
    const amount = Math.min(share, transfer.amount - transfer.amount_reversed);
    if (amount <= 0) return null;
    const reversal = await stripe.transfers.createReversal(c.transferId, { amount, metadata: { kassa_refund_id: refund.id } }, { idempotencyKey: `kassa-refund-${refund.id}-reversal` });
    return { transferReversalId: reversal.id };
  } catch (err) {
    return { transferReversalError: err instanceof Error ? err.message : String(err) };
  }
}
