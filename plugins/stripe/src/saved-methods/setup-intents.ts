import { createHmac, timingSafeEqual } from 'node:crypto';
import { paymentMachine, type PaymentWithOrder } from '@kassa/core';
import type Stripe from 'stripe';
import { stripeCall } from '../intents';
import { withPaymentLock } from '../payment-lock';
import type { StripeRuntime } from '../stripe-state';
import { ensureStripeCustomer, methodDetails, savedMethodKeys } from './customers';

/** Why a SetupIntent was started. */
export type SetupPurpose = 'plan' | 'save' | 'refresh';

/** The token of the buyer's card refresh link: an HMAC of the payment id under the order's secret. */
export function refreshLinkToken(order: { readonly secret: string }, paymentId: string): string {
  return createHmac('sha256', order.secret).update(`kassa-stripe-refresh:${paymentId}`).digest('base64url').slice(0, 32);
}

export function checkRefreshLinkToken(order: { readonly secret: string }, paymentId: string, token: string): boolean {
  const expected = Buffer.from(refreshLinkToken(order, paymentId));
  const got = Buffer.from(token);
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/**
 * A SetupIntent for the order's buyer (their Stripe customer, created or reused), usage
 * off_session, recorded with its purpose so the audit job can find it if it is never completed.
 * An open one of the same purpose is reused (a reloaded page asks again).
 */
export async function startSetup(rt: Pick<StripeRuntime, 'payments' | 'db'>, stripe: Stripe, account: string, l: PaymentWithOrder, purpose: SetupPurpose): Promise<Stripe.SetupIntent> {
  const [open] = await rt.db.query<{ setup_intent_id: string }>(
    `SELECT setup_intent_id FROM stripe_setup_intent WHERE payment_id = $1 AND purpose = $2 AND completed_at IS NULL AND abandoned_at IS NULL ORDER BY created_at DESC LIMIT 1`,
    [l.payment.id, purpose]);
  if (open) {
    const si = await stripeCall('read the card setup', () => stripe.setupIntents.retrieve(open.setup_intent_id));
    if (si.status === 'requires_payment_method' || si.status === 'requires_confirmation' || si.status === 'requires_action') return si;
  }
  const customer = await ensureStripeCustomer(rt, stripe, l.order.id);
  const [counted] = await rt.db.query<{ n: number }>('SELECT count(*)::int AS n FROM stripe_setup_intent WHERE payment_id = $1', [l.payment.id]);
  const n = counted?.n ?? 0;
  const si = await stripeCall('start the card setup', () => stripe.setupIntents.create({
    customer, usage: 'off_session', automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    metadata: { kassa_order_id: l.order.id, kassa_payment_id: l.payment.id, kassa_purpose: purpose },
  }, { idempotencyKey: savedMethodKeys.setupIntent(l.payment.id, `${purpose}-${n + 1}`) }));
  await rt.db.query(
    `INSERT INTO stripe_setup_intent (setup_intent_id, account_id, order_id, payment_id, purpose) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
    [si.id, account, l.order.id, l.payment.id, purpose]);
  return si;
}

/**
 * A SetupIntent that succeeded (return page, webhook or audit; whichever comes first, the rest
 * change nothing): its payment method is saved for the order's buyer and, for a plan or a card
 * refresh, becomes the plan's method; instalments waiting for the buyer are charged with it at
 * the next run. Returns what it did.
 */
export async function completeSetup(rt: Pick<StripeRuntime, 'payments' | 'db'>, stripe: Stripe, setupIntentId: string): Promise<string> {
  const [known] = await rt.db.query<{ payment_id: string; completed_at: Date | null }>(
    'SELECT payment_id, completed_at FROM stripe_setup_intent WHERE setup_intent_id = $1', [setupIntentId]);
  if (!known) return `not ours: ${setupIntentId}`;
  if (known.completed_at) return 'already completed';
  // Under the payment's lock: the return page, the webhook and the audit may complete the same setup
  // at once; the first saves the card and moves the plan, the others find it done.
  return withPaymentLock(rt, known.payment_id, async () => {
    const [row] = await rt.db.query<{ order_id: string; payment_id: string; purpose: SetupPurpose; completed_at: Date | null }>(
      'SELECT order_id, payment_id, purpose, completed_at FROM stripe_setup_intent WHERE setup_intent_id = $1', [setupIntentId]);
    if (!row || row.completed_at) return 'already completed';
    const si = await stripeCall('read the card setup', () => stripe.setupIntents.retrieve(setupIntentId, { expand: ['payment_method'] }));
    if (si.status !== 'succeeded' || !si.payment_method) return `setup is ${si.status}`;
    const pm = si.payment_method as Stripe.PaymentMethod;
    const customer = typeof si.customer === 'string' ? si.customer : si.customer?.id ?? null;
    const method = await rt.payments.storedMethods.save(row.order_id, { reference: pm.id, customerReference: customer, ...methodDetails(pm) });
    if (row.purpose !== 'save' && (await rt.payments.storedMethods.planOf(row.order_id))) await rt.payments.storedMethods.replacePlanMethod(row.order_id, method.id);
    if (row.purpose === 'plan') await confirmZeroAttempt(rt, row.payment_id, si.id);
    await rt.db.query('UPDATE stripe_setup_intent SET completed_at = now(), stored_method_id = $2 WHERE setup_intent_id = $1 AND completed_at IS NULL', [setupIntentId, method.id]);
    return `saved ${method.brand ?? 'card'} ${method.last4 ?? ''}`.trim();
  });
}

/**
 * A plan without a deposit: the checkout's attempt took no money, and once the card is saved it is
 * done (confirmed). The caller holds the payment's lock.
 */
async function confirmZeroAttempt(rt: Pick<StripeRuntime, 'payments'>, paymentId: string, setupIntentId: string): Promise<boolean> {
  const attempt = (await rt.payments.get(paymentId))?.payment;
  if (!attempt || attempt.amount !== 0 || !paymentMachine.is('open', attempt.state)) return false;
  await rt.payments.confirm(attempt.id, { info: { setupIntentId, cardSaved: true } });
  return true;
}

/** {@link confirmZeroAttempt} under the payment's lock (the return page finishing what a crashed webhook run left). */
export function finishZeroAttempt(rt: Pick<StripeRuntime, 'payments' | 'db'>, paymentId: string, setupIntentId: string): Promise<boolean> {
  return withPaymentLock(rt, paymentId, () => confirmZeroAttempt(rt, paymentId, setupIntentId));
}

/** The latest completed SetupIntent of a payment and purpose, if any. */
export async function completedSetup(rt: Pick<StripeRuntime, 'db'>, paymentId: string, purpose: SetupPurpose): Promise<string | null> {
  const [row] = await rt.db.query<{ setup_intent_id: string }>(
    `SELECT setup_intent_id FROM stripe_setup_intent WHERE payment_id = $1 AND purpose = $2 AND completed_at IS NOT NULL ORDER BY completed_at DESC LIMIT 1`, [paymentId, purpose]);
  return row?.setup_intent_id ?? null;
}

/** The SetupIntents of a payment and purpose that are neither completed nor abandoned, newest first. */
export async function openSetups(rt: Pick<StripeRuntime, 'db'>, paymentId: string, purpose: SetupPurpose): Promise<string[]> {
  const rows = await rt.db.query<{ setup_intent_id: string }>(
    `SELECT setup_intent_id FROM stripe_setup_intent WHERE payment_id = $1 AND purpose = $2 AND completed_at IS NULL AND abandoned_at IS NULL ORDER BY created_at DESC`, [paymentId, purpose]);
  return rows.map((r) => r.setup_intent_id);
}

/** SetupIntents started more than `olderThanMs` ago and neither completed nor abandoned. */
export async function staleSetups(rt: Pick<StripeRuntime, 'db'>, olderThanMs: number, limit = 100): Promise<{ setupIntentId: string; account: string; paymentId: string }[]> {
  const rows = await rt.db.query<{ setup_intent_id: string; account_id: string; payment_id: string }>(
    `SELECT setup_intent_id, account_id, payment_id FROM stripe_setup_intent
      WHERE completed_at IS NULL AND abandoned_at IS NULL AND created_at < now() - ($1::int * interval '1 millisecond') ORDER BY created_at LIMIT $2`,
    [olderThanMs, limit]);
  return rows.map((r) => ({ setupIntentId: r.setup_intent_id, account: r.account_id, paymentId: r.payment_id }));
}
