import type { PluginRuntime } from '@kassa/core';
import type Stripe from 'stripe';
import { stripeCall } from '../intents';

/** Idempotency keys of the saved-methods calls, from our own row ids. */
export const savedMethodKeys = {
  customer: (customerId: string) => `kassa-customer-${customerId}`,
  setupIntent: (scope: string, nonce: string) => `kassa-setup-${scope}-${nonce}`,
  detach: (methodId: string) => `kassa-detach-${methodId}`,
};

/**
 * The Stripe customer of the order's buyer, for this organizer: reused when core stores one,
 * else created with an idempotency key from core's customer row (two checkouts racing get the
 * same Stripe customer), then stored in core.
 */
export async function ensureStripeCustomer(rt: Pick<PluginRuntime, 'payments'>, stripe: Stripe, orderId: string): Promise<string> {
  const customer = await rt.payments.storedMethods.customerOfOrder(orderId);
  if (customer.providerReference) return customer.providerReference;
  const created = await stripeCall('create the customer', () => stripe.customers.create(
    { email: customer.email, metadata: { kassa_customer_id: customer.id } }, { idempotencyKey: savedMethodKeys.customer(customer.id) }));
  return rt.payments.storedMethods.setCustomerReference(customer.id, created.id);
}

/** The display details of a payment method (brand, last four, expiry); never card data. */
export function methodDetails(pm: Stripe.PaymentMethod): { brand: string | null; last4: string | null; expMonth: number | null; expYear: number | null } {
  const card = pm.card;
  return { brand: card?.brand ?? null, last4: card?.last4 ?? null, expMonth: card?.exp_month ?? null, expYear: card?.exp_year ?? null };
}
