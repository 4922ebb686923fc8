import { defineErrors, pluginError, type ErrorParams, type KassaError } from '@kassa/core';

/** The Stripe plugin's error catalogue (docs/errors.md, "Plugin stripe"). Codes never change meaning. */
export const stripeErrors = defineErrors({
  // Webhooks, checkout links, capture, Stripe's own refusals
  STRIPE_NOT_CONFIGURED: {
    status: 409, message: 'Stripe is not configured for {scope}: {detail}',
    guidance: 'Enter the Stripe keys in the payment provider settings (organizer or event level), or disable Stripe.',
  },
  STRIPE_ACCOUNT_UNKNOWN: {
    status: 404, message: 'No Stripe account {account} is registered for webhooks',
    guidance: 'Create the webhook endpoint again from the Stripe settings page; this URL belongs to no registered account.',
  },
  STRIPE_WEBHOOK_REFUSED: {
    status: 400, message: 'Stripe webhook for account {account} refused: {reason}',
    guidance: 'Check the endpoint\'s signing secret in the Stripe settings (several may be active during a rotation); forged or stale deliveries are refused on purpose.',
  },
  STRIPE_PAYMENT_LINK_INVALID: {
    status: 404, message: 'This Stripe payment link is not valid for payment {payment}',
    guidance: 'Open the payment from the order page; the link was changed or belongs to another payment.',
  },
  STRIPE_CAPTURE_NOT_ALLOWED: {
    status: 409, message: 'Payment {payment} cannot be captured or released: {reason}',
    guidance: 'Only authorized, uncaptured card payments can be captured or released; reload the order.',
  },
  STRIPE_PAYMENT_BUSY: {
    status: 503, message: 'Payment {payment} is being updated by another worker; retry shortly',
    guidance: 'Retry in a moment; another worker is applying an update to this payment (Stripe retries webhooks by itself).',
  },
  STRIPE_API_ERROR: {
    status: 502, message: 'Stripe refused {operation}: {detail}',
    guidance: 'Read Stripe\'s message in the detail; fix the settings or retry later if Stripe was unavailable.',
  },
  // Control actions: levels a signed-in organizer may not act on
  STRIPE_SCOPE_NOT_ALLOWED: {
    status: 403, message: 'The {scope} Stripe settings cannot be changed from an organizer\'s control panel: {reason}',
    guidance: 'Create the endpoint for your organizer or one of its events; the host sets up the global one at start.',
  },
  STRIPE_INSTANCE_KEYS_IN_USE: {
    status: 409, message: 'The {scope} Stripe settings use the instance\'s keys: the instance\'s operator creates their webhook endpoint, which delivers that account\'s events',
    guidance: 'Nothing to create here: the operator\'s endpoint (Stripe (operator) page) delivers the events of the instance\'s account. For an endpoint of your own, save your own Stripe keys at this level first.',
  },
  // Stripe Connect
  STRIPE_CONNECT_STATE_INVALID: {
    status: 400, message: 'This Stripe Connect answer cannot be used: {reason}',
    guidance: 'Start "Connect with Stripe" again from the Stripe Connect page, in the same browser; the link is single-use and expires after 15 minutes.',
  },
  STRIPE_CONNECT_REFUSED: {
    status: 409, message: 'Stripe Connect refused: {reason}',
    guidance: 'Read the reason; connect again, or ask the instance operator to finish the platform set-up.',
  },
});

export type StripeErrorCode = keyof typeof stripeErrors;

/** A refusal with one of the Stripe plugin's codes. */
export function stripeError(code: StripeErrorCode, params: ErrorParams = {}, options: { cause?: unknown } = {}): KassaError {
  return pluginError(stripeErrors, code, params, options);
}
