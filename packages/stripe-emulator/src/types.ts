/** Shapes of the stored Stripe objects (the subset of fields the emulator models). */
export type Metadata = Record<string, string>;

export interface StripeObject {
  id: string;
  object: string;
  created: number;
  livemode: boolean;
}

export interface ErrorDetails {
  type: string;
  code?: string;
  decline_code?: string;
  message: string;
  param?: string;
  payment_method?: PaymentMethod;
  charge?: string;
  doc_url?: string;
}

export interface Customer extends StripeObject {
  object: 'customer';
  email: string | null;
  name: string | null;
  description: string | null;
  phone: string | null;
  metadata: Metadata;
  invoice_settings: { default_payment_method: string | null };
  deleted?: boolean;
}

export interface CardDetails {
  brand: string;
  last4: string;
  exp_month: number;
  exp_year: number;
  funding: string;
  country: string;
  fingerprint: string;
  checks: { cvc_check: string | null; address_postal_code_check: string | null; address_line1_check: null };
  three_d_secure_usage: { supported: boolean };
  /** Set when the card came from a wallet (Express Checkout): `{type, [type]: {}, dynamic_last4}`. */
  wallet: CardWallet | null;
}

export type WalletType = 'apple_pay' | 'google_pay' | 'link';

export interface CardWallet {
  type: WalletType;
  dynamic_last4: string | null;
  apple_pay?: Record<string, never>;
  google_pay?: Record<string, never>;
  link?: Record<string, never>;
}

export interface SepaDebitDetails {
  bank_code: string;
  branch_code: string;
  country: string;
  fingerprint: string;
  last4: string;
}

export interface PaymentMethod extends StripeObject {
  object: 'payment_method';
  type: 'card' | 'sepa_debit';
  card?: CardDetails;
  sepa_debit?: SepaDebitDetails;
  customer: string | null;
  billing_details: { address: Record<string, string | null>; email: string | null; name: string | null; phone: string | null };
  metadata: Metadata;
  allow_redisplay: string;
}

export type PiStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'canceled'
  | 'succeeded';

export interface NextAction {
  type: 'redirect_to_url' | 'use_stripe_sdk';
  redirect_to_url?: { url: string; return_url: string | null };
  use_stripe_sdk?: { type: string; stripe_js: string; source: string };
}

export interface PaymentIntent extends StripeObject {
  object: 'payment_intent';
  amount: number;
  amount_capturable: number;
  amount_received: number;
  application: null;
  application_fee_amount: number | null;
  automatic_payment_methods: { enabled: boolean; allow_redirects?: 'always' | 'never' } | null;
  allowed_payment_method_types: string[] | null;
  canceled_at: number | null;
  cancellation_reason: string | null;
  capture_method: 'automatic' | 'automatic_async' | 'manual';
  client_secret: string;
  confirmation_method: 'automatic' | 'manual';
  currency: string;
  customer: string | null;
  description: string | null;
  last_payment_error: ErrorDetails | null;
  latest_charge: string | null;
  metadata: Metadata;
  next_action: NextAction | null;
  on_behalf_of: string | null;
  payment_method: string | null;
  payment_method_types: string[];
  payment_method_options: { card: { request_three_d_secure: 'any' | 'automatic' | 'challenge'; capture_method?: 'manual' } };
  processing: null;
  receipt_email: string | null;
  setup_future_usage: 'on_session' | 'off_session' | null;
  statement_descriptor: string | null;
  statement_descriptor_suffix: string | null;
  status: PiStatus;
  transfer_data: { destination: string; amount?: number } | null;
  transfer_group: string | null;
}

export interface Charge extends StripeObject {
  object: 'charge';
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  application_fee: string | null;
  application_fee_amount: number | null;
  balance_transaction: string | null;
  captured: boolean;
  currency: string;
  customer: string | null;
  description: string | null;
  disputed: boolean;
  failure_code: string | null;
  failure_message: string | null;
  metadata: Metadata;
  on_behalf_of: string | null;
  outcome: { network_status: string; reason: string | null; risk_level: string; seller_message: string; type: string };
  paid: boolean;
  payment_intent: string | null;
  payment_method: string | null;
  payment_method_details:
    | { type: 'card'; card: { brand: string; last4: string; exp_month: number; exp_year: number; country: string; funding: string; wallet: CardWallet | null } }
    | { type: 'sepa_debit'; sepa_debit: { bank_code: string; country: string; last4: string; fingerprint: string; mandate: string | null } };
  refunded: boolean;
  status: 'succeeded' | 'pending' | 'failed';
  transfer: string | null;
  transfer_data: { destination: string; amount: number | null } | null;
  transfer_group: string | null;
}

export interface Refund extends StripeObject {
  object: 'refund';
  amount: number;
  balance_transaction: string | null;
  charge: string;
  currency: string;
  failure_balance_transaction?: string;
  failure_reason?: string;
  metadata: Metadata;
  payment_intent: string | null;
  pending_reason?: string;
  reason: string | null;
  status: 'pending' | 'requires_action' | 'succeeded' | 'failed' | 'canceled';
  transfer_reversal: string | null;
  source_transfer_reversal: string | null;
}

export type DisputeStatus =
  | 'warning_needs_response'
  | 'warning_under_review'
  | 'warning_closed'
  | 'needs_response'
  | 'under_review'
  | 'won'
  | 'lost'
  | 'prevented';

export interface Dispute extends StripeObject {
  object: 'dispute';
  amount: number;
  currency: string;
  charge: string;
  payment_intent: string | null;
  status: DisputeStatus;
  reason: string;
  balance_transactions: BalanceTransaction[];
  is_charge_refundable: boolean;
  evidence: Record<string, unknown>;
  evidence_details: { due_by: number; has_evidence: boolean; past_due: boolean; submission_count: number };
  metadata: Metadata;
  payment_method_details: { type: 'card'; card: { brand: string; case_type: 'chargeback' | 'inquiry'; network_reason_code: string | null } };
}

export interface BalanceTransaction extends StripeObject {
  object: 'balance_transaction';
  amount: number;
  currency: string;
  fee: number;
  net: number;
  type: string;
  source: string | null;
  status: 'available' | 'pending';
  available_on: number;
  description: string | null;
  reporting_category: string;
}

export interface SetupIntent extends StripeObject {
  object: 'setup_intent';
  status: Exclude<PiStatus, 'requires_capture'>;
  client_secret: string;
  customer: string | null;
  description: string | null;
  payment_method: string | null;
  payment_method_types: string[];
  usage: 'off_session' | 'on_session';
  next_action: NextAction | null;
  last_setup_error: ErrorDetails | null;
  cancellation_reason: string | null;
  metadata: Metadata;
  automatic_payment_methods: { enabled: boolean; allow_redirects?: 'always' | 'never' } | null;
  latest_attempt: string | null;
  on_behalf_of: string | null;
}

export interface StripeEvent extends StripeObject {
  object: 'event';
  type: string;
  api_version: string;
  account?: string;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  data: { object: unknown; previous_attributes?: Record<string, unknown> };
}

export interface WebhookEndpoint extends StripeObject {
  object: 'webhook_endpoint';
  url: string;
  enabled_events: string[];
  api_version: string | null;
  application: string | null;
  connect?: boolean;
  description: string | null;
  metadata: Metadata;
  status: 'enabled' | 'disabled';
  secret?: string;
}

export interface PaymentMethodDomain extends StripeObject {
  object: 'payment_method_domain';
  domain_name: string;
  enabled: boolean;
  apple_pay: WalletStatus;
  google_pay: WalletStatus;
  link: WalletStatus;
  paypal: WalletStatus;
  amazon_pay: WalletStatus;
  klarna: WalletStatus;
}
export interface WalletStatus {
  status: 'active' | 'inactive';
  status_details?: { error_message: string };
}

export interface Requirements {
  alternatives: unknown[];
  current_deadline: number | null;
  currently_due: string[];
  disabled_reason: string | null;
  errors: unknown[];
  eventually_due: string[];
  past_due: string[];
  pending_verification: string[];
}

export interface Account extends StripeObject {
  object: 'account';
  type: 'standard' | 'express' | 'custom' | 'none';
  business_type: string | null;
  business_profile: Record<string, unknown>;
  capabilities: Record<string, 'active' | 'inactive' | 'pending'>;
  charges_enabled: boolean;
  payouts_enabled: boolean;
  details_submitted: boolean;
  country: string;
  default_currency: string;
  email: string | null;
  metadata: Metadata;
  requirements: Requirements;
  future_requirements: Requirements;
  settings: Record<string, unknown>;
  tos_acceptance: Record<string, unknown>;
  external_accounts?: { object: 'list'; data: unknown[]; has_more: boolean; url: string };
  controller?: Record<string, unknown>;
}

export interface Transfer extends StripeObject {
  object: 'transfer';
  amount: number;
  amount_reversed: number;
  currency: string;
  destination: string;
  destination_payment: string | null;
  reversed: boolean;
  reversals: { object: 'list'; data: TransferReversal[]; has_more: boolean; url: string };
  source_transaction: string | null;
  transfer_group: string | null;
  description: string | null;
  metadata: Metadata;
  balance_transaction: string | null;
}

export interface TransferReversal extends StripeObject {
  object: 'transfer_reversal';
  amount: number;
  currency: string;
  transfer: string;
  metadata: Metadata;
}

export interface ApplicationFee extends StripeObject {
  object: 'application_fee';
  account: string;
  amount: number;
  amount_refunded: number;
  currency: string;
  charge: string;
  originating_transaction: string | null;
  refunded: boolean;
  refunds: { object: 'list'; data: unknown[]; has_more: boolean; url: string };
  application: string;
  balance_transaction: string | null;
}

export interface Payout extends StripeObject {
  object: 'payout';
  amount: number;
  currency: string;
  arrival_date: number;
  status: 'pending' | 'in_transit' | 'paid' | 'failed' | 'canceled';
  method: string;
  type: 'bank_account' | 'card';
  description: string | null;
  destination: string | null;
  failure_code: string | null;
  failure_message: string | null;
  metadata: Metadata;
  statement_descriptor: string | null;
  automatic: boolean;
  balance_transaction: string | null;
}
