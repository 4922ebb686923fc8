import { defineJob, paymentMachine, type PluginJob } from '@kassa/core';
import { fromStripeAmount, toStripeAmount } from '../amount';
import { stripeCall } from '../intents';
import type { StripePaymentInfo } from '../payment-info';
import type { StripeRuntime, StripeState } from '../stripe-state';
import { platformContext } from './connected-accounts';

export const CONNECT_TRANSFER_JOB = 'connect-transfer';

/** One transfer per payment, ever: the key is the payment row's. */
export const transferIdempotencyKey = (paymentId: string): string => `kassa-payment-${paymentId}-transfer`;

/**
 * Separate charges and transfers (reference/stripe-spec.md §9.4): once the platform's charge
 * succeeded, the connected account gets the amount received less the platform fee, as a transfer
 * tied to the charge (`source_transaction`, so it waits for the charge's funds) and to the order's
 * transfer group. Runs from the outbox (payment.confirmed), at least once: the transfer's
 * idempotency key and the row keyed by payment make a repeat a no-op. Returns what it did.
 */
export async function transferSeparateCharge(rt: Pick<StripeRuntime, 'payments' | 'db' | 'settings'>, paymentId: string): Promise<string> {
  const found = await rt.payments.get(paymentId);
  if (!found || found.payment.provider !== 'stripe') return 'not a Stripe payment';
  const info = found.payment.info as StripePaymentInfo;
  const c = info.connect;
  if (!c || c.model !== 'separate') return 'not a separate charge';
  if (c.transferId) return 'already transferred';
  if (!paymentMachine.is('counting', found.payment.state)) return `payment is ${found.payment.state}`;
  if (!info.chargeId || info.amountReceived === undefined) return 'no charge yet';
  const received = fromStripeAmount(info.amountReceived, found.payment.currency.trim());
  const amount = received.amount - c.applicationFee.amount;
  if (amount <= 0) return 'nothing to transfer after the platform fee';
  await rt.db.query(
    `INSERT INTO stripe_connect_transfer (payment_id, account_id, charge_id, amount, currency) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (payment_id) DO NOTHING`,
    [paymentId, c.account, info.chargeId, amount, received.currency],
  );
  const { stripe } = await platformContext(rt);
  const stripeAmount = toStripeAmount({ amount, currency: received.currency });
  const transfer = await stripeCall('transfer to the connected account', () => stripe.transfers.create({
    amount: stripeAmount.amount, currency: stripeAmount.currency, destination: c.account, source_transaction: info.chargeId as string,
    ...(c.transferGroup ? { transfer_group: c.transferGroup } : {}), metadata: { kassa_payment_id: paymentId },
  }, { idempotencyKey: transferIdempotencyKey(paymentId) }));
  await rt.db.query(`UPDATE stripe_connect_transfer SET transfer_id = $2, transferred_at = now() WHERE payment_id = $1`, [paymentId, transfer.id]);
  await rt.payments.recordInfo(paymentId, { connect: { ...c, transferId: transfer.id } });
  return `transferred ${amount} ${received.currency} (${transfer.id})`;
}

/** connect-transfer: for every confirmed payment (outbox), or enqueued with { paymentId }. */
export const connectTransferJob: PluginJob<StripeState> = defineJob({
  name: CONNECT_TRANSFER_JOB,
  topics: ['payment.confirmed'],
  attempts: 8,
  payload: (raw): { paymentId: string } => {
    const data = raw.data as Record<string, unknown> | undefined;
    const paymentId = typeof raw.paymentId === 'string' ? raw.paymentId : data?.paymentId;
    if (typeof paymentId !== 'string') throw new Error('connect-transfer needs { paymentId }');
    return { paymentId };
  },
  processor: async ({ paymentId }, rt: StripeRuntime) => {
    await transferSeparateCharge(rt, paymentId);
  },
});
