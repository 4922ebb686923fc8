/**
 * JSON Schemas of the REST API v1: request validation and response serialization (fields not
 * declared here are never sent). Money is always integer minor units plus an ISO 4217 code.
 */
import { orderStates, paymentStates, refundSources, refundStates } from '@kassa/core/host';

export const uuidSchema = { type: 'string', format: 'uuid' } as const;

export const errorBody = {
  $id: 'Error',
  type: 'object',
  description: 'The one error body: a catalogued code, a message and the parameters it was built from.',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', example: 'NOT_FOUND' },
        message: { type: 'string' },
        params: { type: 'object', additionalProperties: true },
      },
      required: ['code', 'message', 'params'],
    },
  },
  required: ['error'],
} as const;

const nullableDate = { type: ['string', 'null'], format: 'date-time' } as const;

export const paymentSchema = {
  $id: 'Payment',
  type: 'object',
  properties: {
    id: uuidSchema,
    fullId: { type: 'string', description: 'Human id, ORDERCODE-P-n', example: 'K7XQ2-P-1' },
    localId: { type: 'integer' },
    state: { type: 'string', enum: paymentStates },
    amount: { type: 'integer', description: 'Minor units of currency' },
    currency: { type: 'string' },
    provider: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    paymentDate: nullableDate,
    details: { type: 'object', additionalProperties: true, description: "Provider-specific details (the provider's apiPaymentDetails)" },
  },
  required: ['id', 'fullId', 'localId', 'state', 'amount', 'currency', 'provider', 'createdAt', 'paymentDate', 'details'],
} as const;

export const refundSchema = {
  $id: 'Refund',
  type: 'object',
  properties: {
    id: uuidSchema,
    fullId: { type: 'string', example: 'K7XQ2-R-1' },
    localId: { type: 'integer' },
    state: { type: 'string', enum: refundStates },
    source: { type: 'string', enum: refundSources },
    amount: { type: 'integer' },
    currency: { type: 'string' },
    provider: { type: 'string' },
    paymentId: { type: ['string', 'null'] },
    comment: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    executionDate: nullableDate,
  },
  required: ['id', 'fullId', 'localId', 'state', 'source', 'amount', 'currency', 'provider', 'paymentId', 'comment', 'createdAt', 'executionDate'],
} as const;

const summaryProperties = {
  paymentRefundSum: { type: 'integer', description: 'Confirmed payments minus done and in-flight refunds' },
  pendingSum: { type: 'integer', description: 'Still owed' },
  isOverpaid: { type: 'boolean' },
  isUnderpaid: { type: 'boolean' },
  isPendingWithFullPayment: { type: 'boolean' },
  hasExternalRefund: { type: 'boolean' },
  hasPendingRefund: { type: 'boolean' },
} as const;

/** Fields an order has both in the list and in the detail. */
const orderBaseProperties = {
    id: uuidSchema,
    code: { type: 'string' },
    eventId: uuidSchema,
    status: { type: 'string', enum: orderStates },
    email: { type: ['string', 'null'] },
    total: { type: 'integer' },
    currency: { type: 'string' },
    expires: { type: 'string', format: 'date-time' },
    createdAt: { type: 'string', format: 'date-time' },
} as const;

export const orderListItemSchema = {
  $id: 'OrderListItem',
  type: 'object',
  properties: {
    ...orderBaseProperties,
    ...summaryProperties,
  },
  required: ['id', 'code', 'eventId', 'status', 'email', 'total', 'currency', 'expires', 'createdAt'],
} as const;

export const orderSchema = {
  $id: 'Order',
  type: 'object',
  properties: {
    ...orderBaseProperties,
    locale: { type: 'string' },
    testmode: { type: 'boolean' },
    summary: { type: 'object', properties: summaryProperties },
    positions: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: uuidSchema, positionNo: { type: 'integer' }, productId: uuidSchema, price: { type: 'integer' },
          attendeeName: { type: ['string', 'null'] }, canceled: { type: 'boolean' },
        },
      },
    },
    fees: {
      type: 'array',
      items: { type: 'object', properties: { id: uuidSchema, feeType: { type: 'string' }, value: { type: 'integer' }, description: { type: 'string' }, canceled: { type: 'boolean' } } },
    },
    payments: { type: 'array', items: { $ref: 'Payment#' } },
    refunds: { type: 'array', items: { $ref: 'Refund#' } },
    paymentRefusal: {
      type: ['object', 'null'],
      description: 'Why no payment can be started for this order now (null: it can be paid). The same decision the shop and every provider ask before any money moves.',
      properties: {
        code: { type: 'string', enum: ['order_paid', 'order_canceled', 'last_date_passed', 'late_not_accepted', 'quota_gone', 'nothing_owed'] },
        reason: { type: 'string' },
      },
    },
  },
  required: ['id', 'code', 'eventId', 'status', 'total', 'currency', 'summary', 'positions', 'fees', 'payments', 'refunds', 'paymentRefusal'],
} as const;

export const eventSchema = {
  $id: 'Event',
  type: 'object',
  properties: {
    id: uuidSchema,
    slug: { type: 'string' },
    name: { type: 'string' },
    currency: { type: 'string' },
    live: { type: 'boolean' },
    paymentTermDays: { type: 'integer', description: 'Days a buyer has to pay before the order expires' },
    paymentTermAcceptLate: { type: 'boolean', description: 'A payment arriving after expiry may still revive the order while quota allows' },
    paymentTermLast: { ...nullableDate, description: "Last date of payments (pretix's payment_term_last): no payment may start after it, and deadlines never lie beyond it" },
  },
  required: ['id', 'slug', 'name', 'currency', 'live', 'paymentTermDays', 'paymentTermAcceptLate', 'paymentTermLast'],
} as const;

/** Page pagination: `next` is the URL of the following page, or null on the last one. */
export function pageOf(itemRef: string) {
  return {
    type: 'object',
    properties: {
      count: { type: 'integer', description: 'All matching items' },
      page: { type: 'integer' },
      pageSize: { type: 'integer' },
      next: { type: ['string', 'null'] },
      results: { type: 'array', items: { $ref: `${itemRef}#` } },
    },
    required: ['count', 'page', 'pageSize', 'next', 'results'],
  } as const;
}

export const errorResponses = {
  400: { $ref: 'Error#' },
  401: { $ref: 'Error#' },
  404: { $ref: 'Error#' },
  409: { $ref: 'Error#' },
  429: { $ref: 'Error#' },
} as const;

export const productSchema = {
  $id: 'Product',
  type: 'object',
  properties: {
    id: uuidSchema,
    eventId: uuidSchema,
    name: { type: 'string' },
    price: { type: 'integer', description: "Minor units of the event's currency" },
    active: { type: 'boolean' },
    position: { type: 'integer' },
  },
  required: ['id', 'eventId', 'name', 'price', 'active', 'position'],
} as const;

export const quotaSchema = {
  $id: 'Quota',
  type: 'object',
  properties: {
    id: uuidSchema,
    eventId: uuidSchema,
    name: { type: 'string' },
    size: { type: ['integer', 'null'], description: 'null: unlimited' },
    products: { type: 'array', items: uuidSchema },
    used: { type: ['integer', 'null'], description: 'Live positions of pending and paid orders' },
    available: { type: ['integer', 'null'], description: 'size - used (never below 0); null when unlimited' },
  },
  required: ['id', 'eventId', 'name', 'size', 'products', 'used', 'available'],
} as const;
