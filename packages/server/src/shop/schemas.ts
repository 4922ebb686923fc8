/**
 * JSON Schemas of the shop's routes. Form posts arrive url-encoded as strings; the app's ajv
 * coerces numbers. Every body schema closes `additionalProperties`, so a stray or misspelt field
 * is refused with a 400 that names it (except the payment step, whose extra fields belong to the
 * chosen provider's own form and are bounded in size instead).
 */
const slug = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' } as const;
const csrf = { type: 'string', maxLength: 200 } as const;
const token = { type: 'string', format: 'uuid' } as const;

export const eventParams = {
  type: 'object',
  properties: { organizer: slug, event: slug },
  required: ['organizer', 'event'],
} as const;

export const orderParams = {
  type: 'object',
  properties: {
    organizer: slug,
    event: slug,
    code: { type: 'string', pattern: '^[A-Za-z0-9]{1,32}$' },
    secret: { type: 'string', pattern: '^[A-Za-z0-9_-]{8,128}$' },
  },
  required: ['organizer', 'event', 'code', 'secret'],
} as const;

/** Product quantities as `qty_<product uuid>`; the cart becomes exactly these quantities. */
export const cartBody = {
  type: 'object',
  properties: { _csrf: csrf },
  patternProperties: { '^qty_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$': { type: 'integer', minimum: 0, maximum: 20 } },
  additionalProperties: false,
} as const;

export const contactBody = {
  type: 'object',
  properties: {
    _csrf: csrf, email: { type: 'string', format: 'email', minLength: 3, maxLength: 254 },
    // Asked only when a payment method of the event is restricted by country (checkout.routes.ts).
    country: { type: 'string', pattern: '^[A-Za-z]{2}$' },
  },
  required: ['email'],
  additionalProperties: false,
} as const;

export const paymentBody = {
  type: 'object',
  properties: { _csrf: csrf, token, provider: { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,63}$' } },
  required: ['provider'],
  maxProperties: 60,
  additionalProperties: { type: 'string', maxLength: 4000 },
} as const;

export const confirmBody = {
  type: 'object',
  properties: {
    _csrf: csrf, token,
    // Payment plans (docs/payment-plans.md): pay in full or in instalments, and "save this card".
    plan: { type: 'string', enum: ['full', 'instalments'] },
    saveMethod: { type: 'string', enum: ['1', 'on', 'true'] },
  },
  required: ['token'],
  additionalProperties: false,
} as const;

export interface EventParams { organizer: string; event: string }
export interface OrderParams extends EventParams { code: string; secret: string }
export type CartBody = Record<string, string | number | undefined>;
export interface ContactBody { email: string; country?: string; _csrf?: string }
export type PaymentBody = { provider: string; token?: string; _csrf?: string } & Record<string, string | undefined>;
export interface ConfirmBody { token: string; _csrf?: string; plan?: 'full' | 'instalments'; saveMethod?: string }
