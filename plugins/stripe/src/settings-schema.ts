import type { JsonSchema } from '@kassa/core';

/** Stripe's own Stripe.js; the embedded default points at the emulator's double instead. */
export const STRIPE_JS_URL = 'https://js.stripe.com/v3/';

/** The provider's own settings (namespace "payment.stripe"), resolved per event by core. */
export interface StripeSettings {
  /** sk_test_… / sk_live_… (or a restricted rk_ key). Secret: encrypted, write-only. */
  secretKey?: string;
  publishableKey?: string;
  captureMethod: 'automatic' | 'manual';
  statementDescriptorSuffix?: string;
  /** Allowed payment method types (e.g. ["card"]); empty = the methods enabled in the Stripe dashboard. */
  paymentMethods: string[];
  /** Instance-only: where the pay page loads Stripe.js from (the emulator's double in development). */
  stripeJsUrl: string;
  /** Instance-only: emulator or egress proxy base URL for every Stripe call; empty = api.stripe.com. */
  apiBase: string;
  maxNetworkRetries: number;
  timeoutMs: number;
  /** Express wallets (Apple Pay, Google Pay, Link) on the pay page; on by default, switchable per event. */
  wallets: boolean;
  /**
   * Instance-only: custom shop domains (hostnames) that show the wallet, besides BASE_URL's host;
   * each is registered as a payment method domain. A hostname decides where Stripe verifies, so
   * only the operator sets it (KASSA_INSTANCE_SETTINGS).
   */
  walletDomains: string[];
}

/**
 * JSON Schema of the Stripe settings. Keys are validated by prefix so a publishable key pasted
 * into the secret field (a common mistake) is refused with the field named; test and live keys
 * may not be mixed (checked in `settingsProblems`, which the schema cannot express).
 *
 * - The two keys are one unit (`x-unit`): both come from the level that sets either, so an
 *   organizer's publishable key is never paired with the instance's secret key.
 * - Stripe.js URL and API base decide where code is loaded from and where every request (carrying a
 *   secret key) is sent: instance-only, set by the operator (KASSA_INSTANCE_SETTINGS), never by
 *   organizers (docs/security.md). Every key on the instance uses the instance's pair.
 * - Webhook signing secrets are not settings: each is stored on its endpoint's row and verifies
 *   only that endpoint's account (stripe_webhook_endpoint).
 */
export const stripeSettingsSchema: JsonSchema = {
  type: 'object',
  properties: {
    secretKey: { type: 'string', pattern: '^(sk|rk)_(test|live)_[A-Za-z0-9_]+$', 'x-secret': true, 'x-unit': 'keys', title: 'Secret key' },
    publishableKey: { type: 'string', pattern: '^pk_(test|live)_[A-Za-z0-9_]+$', 'x-unit': 'keys', title: 'Publishable key' },
    captureMethod: { type: 'string', enum: ['automatic', 'manual'], default: 'automatic', title: 'Capture' },
    statementDescriptorSuffix: { type: 'string', maxLength: 22, pattern: "^[A-Za-z0-9 .\\-_]*[A-Za-z][A-Za-z0-9 .\\-_]*$", title: 'Statement descriptor suffix' },
    paymentMethods: { type: 'array', items: { type: 'string', pattern: '^[a-z_]+$' }, uniqueItems: true, default: [], title: 'Payment methods' },
    stripeJsUrl: { type: 'string', pattern: '^https?://[^\\s]+$', default: STRIPE_JS_URL, 'x-instance-only': true, title: 'Stripe.js URL' },
    apiBase: { type: 'string', pattern: '^(https?://[^\\s/?#]+)?$', default: '', 'x-instance-only': true, title: 'API base (emulator or proxy; empty = Stripe)' },
    maxNetworkRetries: { type: 'integer', minimum: 0, maximum: 10, default: 3 },
    timeoutMs: { type: 'integer', minimum: 1000, maximum: 120000, default: 30000 },
    wallets: { type: 'boolean', default: true, title: 'Express wallets (Apple Pay, Google Pay, Link) where the domain is active' },
    walletDomains: {
      type: 'array', items: { type: 'string', maxLength: 253, pattern: '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$' },
      uniqueItems: true, maxItems: 50, default: [], 'x-instance-only': true, title: 'Custom shop domains for wallets',
    },
  },
  required: ['secretKey', 'publishableKey'],
  additionalProperties: false,
};

/** Checks the schema cannot express; returns one message per problem (empty = fine). */
export function settingsProblems(s: Partial<StripeSettings>): string[] {
  const problems: string[] = [];
  const mode = (key: string | undefined) => (key ? (/_(test|live)_/.exec(key)?.[1] ?? null) : null);
  const sk = mode(s.secretKey);
  const pk = mode(s.publishableKey);
  if (sk && pk && sk !== pk) problems.push(`secretKey is a ${sk} key but publishableKey is a ${pk} key`);
  // apiBase and stripeJsUrl are the operator's (instance-only): a live key on an instance pointed
  // at an emulator is refused rather than sent there.
  if (sk === 'live' && s.apiBase) problems.push(`a live secretKey must talk to Stripe itself, but this instance sends Stripe requests to ${s.apiBase} (apiBase, set by the operator)`);
  if (sk === 'live' && s.stripeJsUrl && s.stripeJsUrl !== STRIPE_JS_URL) problems.push(`a live secretKey needs Stripe's own Stripe.js (${STRIPE_JS_URL}), but this instance loads ${s.stripeJsUrl} (stripeJsUrl, set by the operator)`);
  return problems;
}

/** The mode of the configured secret key. */
export function isLiveMode(s: Pick<StripeSettings, 'secretKey'>): boolean {
  return /^(sk|rk)_live_/.test(s.secretKey ?? '');
}
