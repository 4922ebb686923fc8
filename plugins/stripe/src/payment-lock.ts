import { randomUUID } from 'node:crypto';
import type { PluginRuntime } from '@kassa/core';
import { stripeError } from './errors';

export interface PaymentLockOptions {
  /** How long a holder may keep the lease before another worker may take it over (crashed worker). */
  leaseMs?: number;
  /** How long to wait for a busy lease before giving up with STRIPE_PAYMENT_BUSY (the job retries). */
  waitMs?: number;
}

/**
 * Runs `work` while holding the per-payment lease, so fetching the current Stripe state and
 * applying it to our rows happen as one step per payment: two workers processing events of the
 * same payment never apply an older fetch after a newer one.
 *
 * The lease is taken with a compare-and-set on `stripe_payment_lock` in its own short transaction
 * under the payment's row lock (core's payments port: NOT_FOUND for a payment that does not exist,
 * so a lease can only be taken for a real payment). No transaction stays open during `work`: it calls Stripe and core's services,
 * which open their own transactions.
 */
export async function withPaymentLock<T>(rt: Pick<PluginRuntime, 'payments' | 'db'>, paymentId: string, work: () => Promise<T>, opts: PaymentLockOptions = {}): Promise<T> {
  const holder = randomUUID();
  const leaseMs = opts.leaseMs ?? 60_000;
  const deadline = Date.now() + (opts.waitMs ?? 15_000);
  let delay = 5;
  for (;;) {
    if (await tryAcquire(rt, paymentId, holder, leaseMs)) break;
    if (Date.now() > deadline) throw stripeError('STRIPE_PAYMENT_BUSY', { payment: paymentId });
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 100);
  }
  try {
    return await work();
  } finally {
    await rt.db.query('DELETE FROM stripe_payment_lock WHERE payment_id = $1 AND holder = $2', [paymentId, holder]);
  }
}

async function tryAcquire(rt: Pick<PluginRuntime, 'payments'>, paymentId: string, holder: string, leaseMs: number): Promise<boolean> {
  return rt.payments.withLock(paymentId, async (tx) => {
    const rows = await tx.query(
      `INSERT INTO stripe_payment_lock (payment_id, holder, expires_at)
       VALUES ($1, $2, now() + ($3::int * interval '1 millisecond'))
       ON CONFLICT (payment_id) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
         WHERE stripe_payment_lock.expires_at < now()
       RETURNING holder`,
      [paymentId, holder, leaseMs],
    );
    return rows.length === 1;
  });
}
