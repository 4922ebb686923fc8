/**
 * The one error catalogue. Every refusal Kassa makes has a stable code, an HTTP status and a
 * message template; `{name}` placeholders are filled from the error's params.
 * `docs/errors.md` is checked against this table by a test, in both directions.
 */
export interface ErrorDefinition {
  readonly status: number;
  readonly message: string;
  /** What the reader should do about it (docs/errors.md); plugins put it next to the code. */
  readonly guidance?: string;
}

/** A package's error catalogue: stable code → status, message template, guidance. */
export type ErrorCatalogue = Readonly<Record<string, ErrorDefinition>>;

export const errorCodes = {
  // Input validation
  VALIDATION_FAILED: { status: 400, message: 'Invalid input: {detail}' },
  MONEY_NOT_SAFE_INTEGER: { status: 400, message: '{field} must be a safe integer number of minor units, got {value}' },
  MONEY_NEGATIVE: { status: 400, message: '{field} must not be negative, got {value}' },
  MONEY_CURRENCY_UNKNOWN: { status: 400, message: 'Unknown currency code {currency}' },
  MONEY_CURRENCY_MISMATCH: { status: 400, message: 'Currency mismatch: {left} vs {right}' },
  MONEY_PARSE_FAILED: { status: 400, message: 'Cannot read "{input}" as an amount in {currency}: {reason}' },
  MONEY_ALLOCATION_INVALID: { status: 400, message: 'Cannot allocate: {reason}' },
  MONEY_AMOUNT_TOO_LARGE: { status: 400, message: '{field} must be at most {max} minor units (13 digits), got {value}' },

  // State machines
  STATE_TRANSITION_NOT_ALLOWED: { status: 409, message: '{machine} cannot go from {from} on {event}' },
  STATE_CONFLICT: { status: 409, message: '{machine} {id} changed concurrently (expected state {expected})' },

  // Lookups
  NOT_FOUND: { status: 404, message: '{entity} not found' },

  // Orders
  ORDER_EMPTY: { status: 400, message: 'An order needs at least one position' },
  ORDER_PRODUCT_UNAVAILABLE: { status: 409, message: 'Product {product} is not available for this event' },
  ORDER_QUOTA_EXCEEDED: { status: 409, message: 'Not enough quota left: {detail}' },
  ORDER_NOT_PAYABLE: { status: 409, message: 'Order {code} cannot be paid: {reason}' },
  ORDER_CANCELLATION_FEE_TOO_HIGH: { status: 400, message: 'Cancellation fee {fee} exceeds the order total {total}' },
  ORDER_EXPIRY_INVALID: { status: 400, message: 'New expiry {expires} must lie in the future' },
  ORDER_TOTAL_TOO_LARGE: { status: 400, message: 'The order total would exceed the largest amount Kassa stores exactly ({max} minor units): {detail}' },
  ORDER_MARK_PAID_REFUSED: { status: 409, message: 'Order {code} cannot be marked as paid: {reason}' },
  ORDER_NOT_CHANGEABLE: { status: 409, message: 'Order {code} cannot be changed: {reason}' },
  ORDER_CHANGE_INVALID: { status: 400, message: 'Invalid order change ({field}): {detail}' },
  ORDER_CHANGE_STALE: { status: 409, message: 'Order {code} was changed since this change was prepared; reload it and try again' },

  // Payments
  PAYMENT_PROVIDER_UNKNOWN: { status: 400, message: 'Unknown payment provider {provider}' },
  PAYMENT_PROVIDER_NOT_ALLOWED: { status: 409, message: 'Payment provider {provider} is not available for this order: {reason}' },
  PAYMENT_AMOUNT_INVALID: { status: 400, message: 'Payment amount {amount} is not valid: {reason}' },
  PAYMENT_ABORT_NOT_ALLOWED: { status: 409, message: 'Payment {id} is pending and provider {provider} does not allow aborting it' },
  PAYMENT_CONFIRM_NOT_ALLOWED: { status: 409, message: 'Payment {id} cannot be confirmed manually from state {state}' },
  PAYMENT_CONFIRMED_QUOTA_EXCEEDED: { status: 409, message: 'Payment {payment} is confirmed, but order {code} could not be marked paid: {reason}. The money is recorded and the order is flagged as fully paid but not confirmed' },

  // Refunds
  REFUND_AMOUNT_EXCEEDS_AVAILABLE: { status: 409, message: 'Refund of {amount} exceeds the {available} still refundable on payment {payment}' },
  REFUND_NOT_SUPPORTED: { status: 409, message: 'Provider {provider} cannot refund payment {payment} automatically' },
  REFUND_PARTIAL_NOT_SUPPORTED: { status: 409, message: 'Provider {provider} cannot refund payment {payment} partially' },
  REFUND_PAYMENT_NOT_CONFIRMED: { status: 409, message: 'Payment {payment} is {state}; only confirmed payments can be refunded' },
  REFUND_NOT_EXTERNAL: { status: 409, message: 'Refund {id} is {state}, not an external refund waiting for a decision' },
  REFUND_PROVIDER_REFUSED: { status: 400, message: 'Provider {provider} refused refund {refund}: {reason}. The refund is kept as failed' },
  REFUND_STALE_FORM: { status: 409, message: 'Refunds of order {code} changed since this form was loaded (another refund was made meanwhile); nothing was refunded. Check the order and try again' },

  // Control-panel actions: one-time keys against double and replayed submits
  ACTION_KEY_INVALID: { status: 409, message: 'This form was already submitted or has expired, so nothing was done again. Reload the page to see the current state and try again' },
  REFUND_ORDER_ACTION_INVALID: { status: 400, message: 'Order {code} cannot stay paid after this refund: {owed} would still be owed; choose pending or cancel' },

  // Providers, plugins and settings
  PROVIDER_ERROR: { status: 502, message: 'Payment provider {provider} failed: {detail}' },
  PLUGIN_INVALID: { status: 500, message: 'Plugin {plugin} is invalid: {reason}' },
  PLUGIN_DUPLICATE: { status: 500, message: 'Plugin or provider {name} is registered twice' },
  PLUGIN_ERROR_CODE_TAKEN: { status: 500, message: 'Plugin {plugin} declares error code {code}, which {owner} already declares' },
  PLUGIN_CORE_VERSION_MISMATCH: { status: 500, message: 'Plugin {plugin} needs core {range}, this is core {version}' },
  SETTINGS_INVALID: { status: 400, message: 'Settings for {namespace} are invalid: {detail}' },
  SETTINGS_INSTANCE_ONLY: { status: 400, message: '{field} in {namespace} is an instance-only setting: only the operator sets it, in the configuration (KASSA_INSTANCE_SETTINGS)' },
  SETTINGS_SECRET_KEY_MISSING: { status: 500, message: 'Secrets cannot be stored: no encryption key is configured (KASSA_SECRET_KEY)' },
  SETTINGS_DECRYPT_FAILED: { status: 500, message: 'A stored secret in {namespace}.{key} cannot be decrypted with the configured key' },

  // Configuration
  CONFIG_INVALID: { status: 500, message: 'Configuration is invalid: {detail}' },

  // HTTP layer: authentication, sessions, CSRF, rate limits (server platform)
  AUTH_REQUIRED: { status: 401, message: 'Authentication required' },
  AUTH_INVALID_CREDENTIALS: { status: 401, message: 'Email or password is incorrect' },
  AUTH_TOKEN_INVALID: { status: 401, message: 'The API token is missing, unknown or revoked' },
  CSRF_INVALID: { status: 403, message: 'The form has expired or was not sent from this site; reload and try again' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; retry in {retryAfter}' },
  ROUTE_NOT_FOUND: { status: 404, message: 'No page at {method} {url}' },
  TEAM_LAST_ADMIN: {
    status: 409, message: 'This would leave the organizer without anyone who can change teams',
    guidance: 'Give another member the "can change teams" permission first, then remove, leave or change this one.',
  },
  INVITE_INVALID: {
    status: 404, message: 'This invitation link is unknown, already used or expired',
    guidance: 'Ask a team administrator of the organizer for a new invitation.',
  },
  INTERNAL_ERROR: { status: 500, message: 'Something went wrong on our side (reference {requestId})' },
  DATABASE_UNAVAILABLE: { status: 503, message: 'The database cannot be reached right now; retry in a few seconds' },
  // Domain services: orders, payments, refunds (order/, payment/, refund/ services)
  PAYMENT_NOT_EXECUTABLE: { status: 409, message: 'Payment {id} cannot be executed: {reason}' },
  REFUND_PROVIDER_INVALID: { status: 400, message: 'A refund of payment {payment} must go through its provider {expected} or be a manual refund, not {provider}' },
  REFUND_SOURCE_INVALID: { status: 400, message: 'Refund source must be buyer or admin, got {source}; external refunds are reported with createExternalRefund' },
  REFUND_NOT_RETRYABLE: { status: 409, message: 'Refund {refund} cannot be retried: it is {state}; only a failed refund of a payment can be retried ({reason})' },

  // Shop: the buyer order flow (server shop/)
  SHOP_CART_EMPTY: { status: 400, message: 'Your cart is empty: choose at least one ticket' },
  SHOP_TOTAL_TOO_LARGE: { status: 400, message: 'With the payment fee, your order\'s total would be more than one order can hold. Please choose fewer tickets, or split them over several orders' },
  SHOP_CART_TOO_LARGE: { status: 400, message: 'Your cart is more than one order can hold: with {quantity} × {product} its total would be too large to take. Please choose fewer tickets, or split them over several orders' },
  SHOP_NOT_ENOUGH_LEFT: { status: 409, message: '{product}: only {available} left, you asked for {requested}' },
  SHOP_NOT_ON_SALE: { status: 409, message: 'This event is not on sale' },
  SHOP_CHECKOUT_STEP_MISSING: { status: 409, message: 'Please complete the {step} step first' },
  SHOP_PAYMENT_METHOD_UNAVAILABLE: { status: 409, message: 'The payment method {provider} is not available for this order' },
  SHOP_PAYMENT_FORM_INVALID: { status: 400, message: 'Please check the details for {provider}: {detail}' },
  SHOP_PAYMENT_NOT_CHANGEABLE: { status: 409, message: 'The payment of order {code} cannot be started or changed: {reason}' },
  SHOP_SUBMISSION_FOREIGN: { status: 409, message: 'This form belongs to another browser session; please start again' },
  SHOP_SUBMISSION_IN_PROGRESS: { status: 409, message: 'Your order is still being processed; reload the page in a moment' },

  // Embedded database (db/embedded): PGlite served on a loopback port when DATABASE_URL is unset
  EMBEDDED_DATA_DIR_IN_USE: { status: 500, message: 'The embedded database in {dataDir} is in use by process {pid}; stop that process or set DATABASE_URL' },
  EMBEDDED_START_FAILED: { status: 500, message: 'The embedded database ({dataDir}) could not start: {reason}' },

  // Jobs (packages/jobs): the control panel's failed-jobs list
  JOB_QUEUE_UNKNOWN: { status: 400, message: 'Unknown job queue {queue}; known queues: {known}' },
  JOB_NOT_FAILED: { status: 409, message: 'Job {id} in queue {queue} is {state}; only failed jobs can be retried' },

  // REST API: X-Idempotency-Key (server api/idempotency.ts)
  API_IDEMPOTENCY_IN_PROGRESS: { status: 409, message: 'A request with idempotency key {key} is still being processed; retry in a moment' },
  API_IDEMPOTENCY_KEY_REUSED: { status: 422, message: 'Idempotency key {key} was used for a different request ({was}); use a new key for a new request' },
  // Stored payment methods and payment plans (customer/, plan/; docs/payment-plans.md)
  STORED_METHODS_NOT_SUPPORTED: { status: 409, message: 'Provider {provider} cannot save methods or charge them off-session (payment {payment})' },
  PLAN_NOT_OFFERED: { status: 409, message: 'Order {code} cannot be paid in instalments: {reason}' },
  PLAN_SETTINGS_INVALID: { status: 400, message: 'Payment plan settings: {field} {reason}' },
  PLAN_ACTION_NOT_ALLOWED: { status: 409, message: 'Instalment {seq} of order {code} cannot be changed: {reason}' },
  // Exports and the data shredder (server bulk/): tasks run by the jobs runtime
  BULK_TASK_NOT_READY: { status: 409, message: 'Export {id} is {status}: its file can be downloaded once it has finished' },
  BULK_TASK_FILE_REMOVED: { status: 410, message: 'The file of export {id} was removed ({reason}); start a new export' },
  BULK_TASKS_UNAVAILABLE: { status: 503, message: 'Exports and the data shredder need the jobs runtime, which this server was started without' },

} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof errorCodes;
