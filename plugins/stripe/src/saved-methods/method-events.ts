import type Stripe from 'stripe';
import { stripeCall } from '../intents';
import type { StripeRuntime } from '../stripe-state';
import { methodDetails } from './customers';
import { completeSetup } from './setup-intents';

/** Whether an inbox event is one of the saved-methods events handled here. */
export function isMethodEvent(type: string): boolean {
  return type.startsWith('setup_intent.') || type === 'payment_method.detached' || type === 'payment_method.automatically_updated' || type === 'payment_method.updated';
}

/**
 * setup_intent.* and payment_method.* keep stored methods current. As for payments, the object
 * is re-fetched from Stripe (the payload is not trusted): a detached method is never charged
 * again, an updated card gets its new display details, a succeeded SetupIntent saves its method.
 */
export async function applyMethodEvent(rt: Pick<StripeRuntime, 'payments' | 'db'>, stripe: Stripe, event: { type: string; objectId: string }): Promise<string> {
  if (event.type.startsWith('setup_intent.')) return completeSetup(rt, stripe, event.objectId);
  const known = await rt.payments.storedMethods.byReference(event.objectId);
  if (!known) return `not ours: ${event.objectId}`;
  const pm = await stripeCall('read the payment method', () => stripe.paymentMethods.retrieve(event.objectId));
  if (!pm.customer) return (await rt.payments.storedMethods.detached(pm.id)) ? 'method detached' : 'method already removed';
  return (await rt.payments.storedMethods.updated(pm.id, methodDetails(pm))) ? 'method updated' : 'method unchanged';
}
