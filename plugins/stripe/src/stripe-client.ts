import Stripe from 'stripe';

/**
 * The one place the Stripe API version is pinned: stripe-node's own pinned version, so request
 * and webhook payload shapes match the SDK's types (reference/stripe-spec.md §12). Webhook
 * endpoints we create carry the same version.
 */
export const STRIPE_API_VERSION = Stripe.API_VERSION;

export interface StripeClientOptions {
  secretKey: string;
  /** Emulator or proxy: e.g. "http://127.0.0.1:12111". Unset = api.stripe.com. */
  apiBase?: string;
  maxNetworkRetries?: number;
  timeoutMs?: number;
  /** Connect: act on a connected account. */
  stripeAccount?: string;
}

/**
 * Builds a stripe-node client. Test keys with no apiBase would reach the real Stripe, which is fine;
 * a live key is never allowed to reach an emulator (the emulator refuses it too).
 */
export function createStripeClient(opts: StripeClientOptions): Stripe {
  const config: Stripe.StripeConfig = {
    apiVersion: STRIPE_API_VERSION as Stripe.StripeConfig['apiVersion'],
    maxNetworkRetries: opts.maxNetworkRetries ?? 3,
    timeout: opts.timeoutMs ?? 30_000,
    appInfo: { name: 'Kassa', url: 'https://github.com/kassa' },
    ...(opts.stripeAccount ? { stripeAccount: opts.stripeAccount } : {}),
  };
  if (opts.apiBase) {
    const url = new URL(opts.apiBase);
    config.host = url.hostname;
    config.port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    config.protocol = url.protocol === 'https:' ? 'https' : 'http';
  }
  return new Stripe(opts.secretKey, config);
}

/**
 * Idempotency keys derived from our own row ids, so a retried job or a double click can never
 * move money twice (stripe-node's automatic key only covers its own retries within one call).
 * A change of parameters must come with a new row (a new attempt), never a reused key.
 */
export const idempotencyKeys = {
  createIntent: (paymentId: string) => `kassa-payment-${paymentId}-create`,
  confirmIntent: (paymentId: string) => `kassa-payment-${paymentId}-confirm`,
  capture: (paymentId: string, amount: number) => `kassa-payment-${paymentId}-capture-${amount}`,
  cancelIntent: (paymentId: string) => `kassa-payment-${paymentId}-cancel`,
  refund: (refundId: string) => `kassa-refund-${refundId}`,
  webhookEndpoint: (scopeId: string, nonce: string) => `kassa-webhook-endpoint-${scopeId}-${nonce}`,
};
