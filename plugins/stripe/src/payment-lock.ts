import { randomUUID } from 'node:crypto';
import { KassaError, type DataSource } from '@kassa/core';

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
 * (the payment row is locked FOR UPDATE while taking it, so a lease can only be taken for a payment
 * that exists). No transaction stays open during `work`: it calls Stripe and core's services,
 * which open their own transactions.
 */
export async function withPaymentLock<T>(ds: DataSource, paymentId: string, work: () => Promise<T>, opts: PaymentLockOptions = {}): Promise<T> {
  const holder = randomUUID();
  const leaseMs = opts.leaseMs ?? 60_000;
  const deadline = Date.now() + (opts.waitMs ?? 15_000);
  let delay = 5;
  for (;;) {
    if (await tryAcquire(ds, paymentId, holder, leaseMs)) break;
    if (Date.now() > deadline) throw new KassaError('STRIPE_PAYMENT_BUSY', { payment: paymentId });
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 100);
  }
  try {
    return await work();
  } finally {
    await ds.query('DELETE FROM stripe_payment_lock WHERE payment_id = $1 AND holder = $2', [paymentId, holder]);
  }
}

async function tryAcquire(ds: DataSource, paymentId: string, holder: string, leaseMs: number): Promise<boolean> {
  return ds.transaction(async (tx) => {
    const found = await tx.query('SELECT id FROM order_payment WHERE id = $1 FOR UPDATE', [paymentId]);
    if (found.length === 0) throw new KassaError('NOT_FOUND', { entity: `Payment ${paymentId}` });
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
