import { currencyExponent, type JsonSchema } from '@kassa/core';

/** How money reaches a connected organizer (reference/stripe-spec.md §9.4). */
export const CHARGE_MODELS = ['direct', 'destination', 'separate'] as const;
export type ChargeModel = (typeof CHARGE_MODELS)[number];

/**
 * The platform fee in one currency, in that currency's minor units: `percent` of the amount plus
 * `fixed`, then raised to `min` and lowered to `max` (null = no maximum), never above the amount.
 */
export interface PlatformFeeRule {
  readonly percent: string;
  readonly fixed: number;
  readonly min: number;
  readonly max: number | null;
}

/**
 * Who gives back what when an organizer's Connect payment is refunded (reference/stripe-spec.md
 * §9.5), for destination and direct charges:
 * - `reverse_both` (the default): the organizer's share is pulled back (destination: the transfer
 *   reversed proportionally) and the platform returns its fee proportionally;
 * - `keep_fee`: the platform keeps its fee. Destination: no flag at all, so the platform's balance
 *   pays the refund and the organizer keeps the transfer (Stripe's default). Direct: the connected
 *   account pays the refund, the fee stays with the platform;
 * - `reverse_transfer_only`: destination: the transfer is reversed proportionally, the fee stays
 *   with the platform (the organizer returns the whole refunded share). Direct: as `keep_fee` (a
 *   direct charge has no transfer).
 * Separate charges and transfers are not governed by it: their transfer is reversed apart.
 */
export const REFUND_FEE_POLICIES = ['reverse_both', 'keep_fee', 'reverse_transfer_only'] as const;
export type RefundFeePolicy = (typeof REFUND_FEE_POLICIES)[number];

/** What the operator may set for one organizer (and only the operator: the key is instance-only). */
export interface OrganizerConnectOverride {
  readonly chargeModel?: ChargeModel;
  /** The refund fee policy for this organizer (REFUND_FEE_POLICIES). */
  readonly refundFeePolicy?: RefundFeePolicy;
  /** Replaces the instance's rule for each currency it names. */
  readonly fees?: Readonly<Record<string, PlatformFeeRule>>;
}

/** The Connect part of the Stripe settings: all instance-only but `connectAccount`. */
export interface ConnectSettings {
  /** The platform's keys (sk_/rk_ and pk_): every Connect call is made with them. Secret: encrypted. */
  platformSecretKey?: string;
  platformPublishableKey?: string;
  /** ca_…: the platform's Connect client id (Standard accounts via OAuth). */
  connectClientId?: string;
  /** Signing secrets of the platform's Connect webhook endpoint(s), for endpoints made outside Kassa. */
  connectWebhookSecrets: string[];
  connectChargeModel: ChargeModel;
  /** The type of the accounts Kassa creates for onboarding (Standard accounts connect through OAuth). */
  connectAccountType: 'express' | 'custom';
  /** Currency code (upper case) → the platform fee in that currency. */
  connectFees: Record<string, PlatformFeeRule>;
  /** The refund fee policy of every organizer without its own (REFUND_FEE_POLICIES); default reverse_both. */
  connectRefundFeePolicy: RefundFeePolicy;
  /** Organizer id → the operator's override of charge model, fees and refund fee policy. */
  connectOrganizers: Record<string, OrganizerConnectOverride>;
  /** The organizer's (or event's) connection, signed by Kassa with the platform key (connection-token.ts). */
  connectAccount?: string;
}

const feeRuleSchema: JsonSchema = {
  type: 'object',
  properties: {
    percent: { type: 'string', pattern: '^\\d{1,2}(?:\\.\\d{1,4})?$' },
    fixed: { type: 'integer', minimum: 0 },
    min: { type: 'integer', minimum: 0 },
    max: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }] },
  },
  required: ['percent', 'fixed', 'min', 'max'],
  additionalProperties: false,
};

const feesSchema: JsonSchema = { type: 'object', propertyNames: { type: 'string', pattern: '^[A-Z]{3}$' }, additionalProperties: feeRuleSchema };

/**
 * The Connect properties of the `payment.stripe` schema. They live in the provider's namespace
 * because the provider's context (checkout, executePayment) sees only that namespace. Everything
 * the operator decides is instance-only (set in KASSA_INSTANCE_SETTINGS, never by an organizer):
 * the platform keys, the client id, the charge model and the fees, and the per-organizer overrides,
 * keyed by organizer id. `connectAccount` is written by Kassa at the organizer or event level when
 * an account is connected; it is a secret (never shown) and signed with the platform key, so an
 * organizer who types something there gets no connection at all, let alone someone else's.
 */
export const connectSettingsProperties: Record<string, JsonSchema> = {
  platformSecretKey: { type: 'string', pattern: '^(sk|rk)_(test|live)_[A-Za-z0-9_]+$', 'x-secret': true, 'x-instance-only': true, title: 'Connect platform secret key' },
  platformPublishableKey: { type: 'string', pattern: '^pk_(test|live)_[A-Za-z0-9_]+$', 'x-instance-only': true, title: 'Connect platform publishable key' },
  connectClientId: { type: 'string', pattern: '^ca_[A-Za-z0-9_]+$', 'x-instance-only': true, title: 'Connect client id' },
  connectWebhookSecrets: { type: 'array', items: { type: 'string', pattern: '^whsec_[A-Za-z0-9_]+$' }, default: [], 'x-secret': true, 'x-instance-only': true, title: 'Connect webhook signing secrets' },
  connectChargeModel: { type: 'string', enum: [...CHARGE_MODELS], default: 'destination', 'x-instance-only': true, title: 'Connect charge model' },
  connectAccountType: { type: 'string', enum: ['express', 'custom'], default: 'express', 'x-instance-only': true, title: 'Type of accounts created for onboarding' },
  connectFees: { ...feesSchema, default: {}, 'x-instance-only': true, title: 'Connect platform fee per currency' },
  connectRefundFeePolicy: { type: 'string', enum: [...REFUND_FEE_POLICIES], default: 'reverse_both', 'x-instance-only': true, title: 'Connect refund fee policy' },
  connectOrganizers: {
    type: 'object',
    additionalProperties: {
      type: 'object',
      properties: { chargeModel: { type: 'string', enum: [...CHARGE_MODELS] }, fees: feesSchema, refundFeePolicy: { type: 'string', enum: [...REFUND_FEE_POLICIES] } },
      additionalProperties: false,
    },
    default: {},
    'x-instance-only': true,
    title: 'Connect overrides per organizer',
  },
  connectAccount: { type: 'string', maxLength: 2000, 'x-secret': true, title: 'Stripe Connect connection (managed by Kassa: leave empty)' },
};

/** Checks of the Connect settings the schema cannot express (empty = fine). */
export function connectSettingsProblems(s: Partial<ConnectSettings>): string[] {
  const problems: string[] = [];
  const mode = (key: string | undefined) => (key ? (/_(test|live)_/.exec(key)?.[1] ?? null) : null);
  const sk = mode(s.platformSecretKey);
  const pk = mode(s.platformPublishableKey);
  if (sk && pk && sk !== pk) problems.push(`platformSecretKey is a ${sk} key but platformPublishableKey is a ${pk} key`);
  if (Boolean(s.platformSecretKey) !== Boolean(s.platformPublishableKey) && (s.platformSecretKey || s.platformPublishableKey)) {
    problems.push('platformSecretKey and platformPublishableKey are set together');
  }
  const rules: [string, PlatformFeeRule][] = [
    ...Object.entries(s.connectFees ?? {}).map(([c, r]) => [`connectFees.${c}`, r] as [string, PlatformFeeRule]),
    ...Object.entries(s.connectOrganizers ?? {}).flatMap(([o, v]) => Object.entries(v.fees ?? {}).map(([c, r]) => [`connectOrganizers.${o}.fees.${c}`, r] as [string, PlatformFeeRule])),
  ];
  for (const [where, r] of rules) {
    if (currencyExponent(where.slice(where.lastIndexOf('.') + 1)) === undefined) problems.push(`${where}: not an ISO 4217 currency`);
    if (r.max !== null && r.max < r.min) problems.push(`${where}: max (${r.max}) is below min (${r.min})`);
  }
  return problems;
}

/** The charge model the operator chose for this organizer. */
export function chargeModelFor(s: Pick<ConnectSettings, 'connectChargeModel' | 'connectOrganizers'>, organizerId: string): ChargeModel {
  return s.connectOrganizers?.[organizerId]?.chargeModel ?? s.connectChargeModel ?? 'destination';
}

/** The fee rule for this organizer and currency: the operator's override, else the instance's, else none. */
export function feeRuleFor(s: Pick<ConnectSettings, 'connectFees' | 'connectOrganizers'>, organizerId: string, currency: string): PlatformFeeRule | null {
  return s.connectOrganizers?.[organizerId]?.fees?.[currency] ?? s.connectFees?.[currency] ?? null;
}

/** The refund fee policy the operator chose for this organizer (its own, else the instance's, else reverse_both). */
export function refundFeePolicyFor(s: Pick<ConnectSettings, 'connectRefundFeePolicy' | 'connectOrganizers'>, organizerId: string): RefundFeePolicy {
  return s.connectOrganizers?.[organizerId]?.refundFeePolicy ?? s.connectRefundFeePolicy ?? 'reverse_both';
}
