import type { ErrorCode } from '../src/errors';

/**
 * "What to do" for each error code, rendered into docs/errors.md. Optional on purpose: a new code
 * gets a sensible default from its HTTP status until someone writes a better line here.
 */
export const errorGuidance: Partial<Record<ErrorCode, string>> = {
  VALIDATION_FAILED: 'Correct the field named in the detail and send the request again.',
  MONEY_NOT_SAFE_INTEGER: 'Send amounts as whole numbers of minor units (cents, yen, fils), never as decimals or floats.',
  MONEY_NEGATIVE: 'Send a positive amount; a refund or a fee is its own operation, not a negative payment.',
  MONEY_CURRENCY_UNKNOWN: 'Use an active ISO 4217 code in upper case (EUR, JPY, KWD).',
  MONEY_CURRENCY_MISMATCH: "Amounts can only be combined within one currency; use the event's currency.",
  MONEY_PARSE_FAILED: 'Show the reason next to the field; the user types digits with at most the currency\'s decimals (see docs/money.md).',
  MONEY_ALLOCATION_INVALID: 'Pass at least one ratio, all whole numbers ≥ 0 with a positive sum.',
  STATE_TRANSITION_NOT_ALLOWED: 'Reload the object: its current state does not allow this action (see docs/state-machines.md).',
  STATE_CONFLICT: 'Someone changed the object at the same moment; reload it and decide again.',
  NOT_FOUND: 'Check the identifier and that it belongs to this organizer and event.',
  ORDER_EMPTY: 'Add at least one product to the order.',
  ORDER_PRODUCT_UNAVAILABLE: 'Choose a product that belongs to this event and is on sale.',
  ORDER_QUOTA_EXCEEDED: 'Fewer tickets are left than requested; reduce the quantity or choose another product.',
  ORDER_NOT_PAYABLE: 'The order is paid, canceled, past its last date of payments, or expired without quota or late payments; show the order page instead of the payment form. An organizer can still mark it paid with force.',
  ORDER_MARK_PAID_REFUSED: 'Mark it paid with force to overbook the quota or pass the last date of payments; a paid or canceled order cannot be marked paid.',
  ORDER_CANCELLATION_FEE_TOO_HIGH: 'Choose a cancellation fee no larger than the order total.',
  ORDER_EXPIRY_INVALID: 'Pick an expiry date in the future.',
  ORDER_NOT_CHANGEABLE: 'Only pending and paid orders can be changed; extend an expired order first, a canceled one cannot be changed.',
  ORDER_CHANGE_INVALID: 'Fix the named operation: a live position of this order, a product of this event, a price in minor units; keep at least one position.',
  ORDER_CHANGE_STALE: 'Reload the order and prepare the change again: someone changed it meanwhile, and nothing was written.',
  PAYMENT_PROVIDER_UNKNOWN: 'Use the identifier of a provider that is installed and enabled for this event.',
  PAYMENT_PROVIDER_NOT_ALLOWED: 'Offer the buyer another payment method; this one is outside its availability window, total range or countries.',
  PAYMENT_AMOUNT_INVALID: 'Pay an amount between one minor unit and the amount still open on the order.',
  PAYMENT_ABORT_NOT_ALLOWED: 'Wait for the provider to confirm or fail the payment; it may already be moving money.',
  PAYMENT_CONFIRM_NOT_ALLOWED: 'Only created, pending, failed or canceled payments can be marked as paid.',
  PAYMENT_NOT_EXECUTABLE: 'Start a new payment attempt for the order instead of re-executing this one.',
  REFUND_AMOUNT_EXCEEDS_AVAILABLE: 'Refund at most the amount shown as refundable; other refunds may already be in flight.',
  REFUND_NOT_SUPPORTED: 'Refund manually (bank transfer) and record it as a manual refund.',
  REFUND_PARTIAL_NOT_SUPPORTED: 'Refund the full payment, or record the partial amount as a manual refund.',
  REFUND_PAYMENT_NOT_CONFIRMED: 'Choose a confirmed payment; pending payments can be canceled instead.',
  REFUND_ORDER_ACTION_INVALID: 'Keep an order paid only when its payments still cover the total; otherwise mark it pending (the default) or cancel it.',
  REFUND_NOT_EXTERNAL: 'Only refunds in state external wait for a decision; this one is already handled.',
  REFUND_NOT_RETRYABLE: 'Reload the order: only a failed refund can be retried (as a new attempt); one that is done, in flight or canceled needs no retry.',
  REFUND_PROVIDER_INVALID: "Refund through the payment's own provider, or as a manual refund.",
  REFUND_SOURCE_INVALID: 'Use source buyer or admin; report refunds made outside Kassa with createExternalRefund.',
  PROVIDER_ERROR: 'Retry later; nothing was changed on our side. If it persists, check the provider status and credentials.',
  PLUGIN_INVALID: "Fix the plugin's definePlugin() value as the reason says; Kassa refuses to start with it.",
  PLUGIN_DUPLICATE: 'Remove one of the two plugins or rename the provider identifier.',
  PLUGIN_ERROR_CODE_TAKEN: 'Rename the plugin\'s code with its own prefix (e.g. STRIPE_ for the Stripe plugin); codes are shared by core and every plugin.',
  PLUGIN_CORE_VERSION_MISMATCH: 'Install a plugin version built for this core, or upgrade Kassa.',
  SETTINGS_INVALID: 'Correct the setting named in the detail; the form shows which field failed its schema.',
  SETTINGS_INSTANCE_ONLY: 'Leave the field out: it decides where code is loaded from or requests are sent, so the operator sets it in KASSA_INSTANCE_SETTINGS (docs/security.md).',
  SETTINGS_SECRET_KEY_MISSING: 'Set KASSA_SECRET_KEY (32 random bytes, base64) in the configuration and restart.',
  SETTINGS_DECRYPT_FAILED: 'Restore the key the secret was written with, or enter the secret again.',
  CONFIG_INVALID: 'Fix the named configuration key in the environment and restart.',
  AUTH_REQUIRED: 'Log in, or send an API token in the Authorization header.',
  AUTH_INVALID_CREDENTIALS: 'Check the email and password.',
  AUTH_TOKEN_INVALID: 'Create a new API token in the control panel and use it.',
  CSRF_INVALID: 'Reload the page and submit the form again.',
  RATE_LIMITED: 'Wait for the time given in the Retry-After header, then retry.',
  ROUTE_NOT_FOUND: 'Check the URL and method against the API reference.',
  INTERNAL_ERROR: 'Retry; if it persists, report the reference to the operator, who finds it in the logs.',
  SHOP_CART_EMPTY: 'Choose at least one ticket, then continue.',
  SHOP_TOTAL_TOO_LARGE: 'Lower the quantities in the cart, or place several orders.',
  SHOP_CART_TOO_LARGE: 'Lower the quantity of the named product (or of others in the cart), or place several orders.',
  SHOP_NOT_ENOUGH_LEFT: 'Lower the quantity to what is left, or choose another product.',
  SHOP_NOT_ON_SALE: 'Come back when the presale opens; the organizer controls the sale period.',
  SHOP_CHECKOUT_STEP_MISSING: 'Go back to the named step and complete it.',
  SHOP_PAYMENT_METHOD_UNAVAILABLE: 'Choose another payment method for this order.',
  SHOP_PAYMENT_FORM_INVALID: 'Correct the payment details named in the message and submit again.',
  SHOP_PAYMENT_NOT_CHANGEABLE: 'Open the order page: the order is already paid, canceled or has a payment in progress.',
  SHOP_SUBMISSION_FOREIGN: 'Start the checkout again in this browser.',
  SHOP_SUBMISSION_IN_PROGRESS: 'Wait a moment and reload the page; the first submission is still being processed.',
  EMBEDDED_DATA_DIR_IN_USE: 'Stop the other Kassa process using this data directory, choose another directory, or set DATABASE_URL.',
  EMBEDDED_START_FAILED: 'Check that the data directory is writable and not corrupted, or set DATABASE_URL to use a PostgreSQL server.',
  JOB_QUEUE_UNKNOWN: 'Use one of the queue names listed in the message.',
  JOB_NOT_FAILED: 'Only jobs in the failed list can be retried; reload the list.',
  DATABASE_UNAVAILABLE: 'The database is restarting or unreachable. Retry after Retry-After seconds; reload first to see whether the last change went through (a transaction commits whole or not at all). If it persists, the operator checks the database.',
};

/** The fallback when a code has no entry above, by HTTP status class. */
export function defaultGuidance(status: number): string {
  if (status === 401 || status === 403) return 'Authenticate with an account allowed to do this.';
  if (status === 404) return 'Check the identifier and the URL.';
  if (status === 409) return 'Reload the current state and decide again; repeating the same request fails the same way.';
  if (status === 429) return 'Slow down and retry later.';
  if (status >= 400 && status < 500) return 'Correct the input named in the message and send the request again.';
  if (status === 502 || status === 503 || status === 504) return 'An upstream service failed; retry later.';
  return 'A problem on the server side: the operator should check the configuration and the logs.';
}
