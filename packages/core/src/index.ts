// @kassa/core: the plugin port. Everything a plugin may use, and nothing else: plugins import only
// from here (a lint rule keeps them out of `@kassa/core/host`, the server's and worker's surface).
// A test pins this list (packages/core/test/unit/port-surface.test.ts): adding a name is a decision.
import 'reflect-metadata';

// Refusals: core's codes, and the plugin's own catalogue.
export { KassaError, isKassaError, defineErrors, pluginError } from './errors/kassa-error';
export type { ErrorCode, ErrorDefinition, ErrorCatalogue } from './errors/error-codes';
export type { ErrorParams, AnyErrorCode } from './errors/kassa-error';

// Money: integer minor units plus an ISO 4217 code.
export { type Money, money, assertMinorUnits, assertSameCurrency, add, subtract, sum, isZero, compare } from './money/money';
export { type CurrencyCode, currencyExponent, isCurrencyCode } from './money/currencies';
export { formatMoney, minorUnitsToDecimalString } from './money/format';
export { type Clock, systemClock } from './clock';

// The state machines: what a state means (sets) and which edges exist; core refuses the rest.
export { orderMachine, type OrderStatus } from './order/order.machine';
export { paymentMachine, type PaymentState } from './payment/payment.machine';
export { refundMachine, type RefundState, type RefundSource } from './refund/refund.machine';

// The provider contract.
export { BasePaymentProvider, type JsonSchema, type PrepareResult } from './provider/base-payment-provider';
export type {
  PaymentOutcome, RefundOutcome, ViewModel, ProviderContext, AvailabilityQuery, PaymentCallInput, RefundCallInput,
} from './provider/provider-types';
export type { Actor } from './audit/log-action';
// The stored-method capability of the provider contract (docs/payment-plans.md).
export type { StoredMethodRef, SavedMethodDetails, OffSessionChargeInput, OffSessionOutcome, ActionReason } from './provider/stored-method-types';
// The rows core hands a provider's hooks, as types only (a plugin never queries them).
export type { Order } from './order/order.entity';
export type { OrderPayment } from './payment/order-payment.entity';
export type { OrderRefund } from './refund/order-refund.entity';
export type { Event } from './event/event.entity';

// The plugin definition.
export { definePlugin, defineRoute, defineJob, defineMigration } from './plugin/define-plugin';
export type {
  Plugin, PluginDefinition, PluginRoute, PluginJob, ProviderFactory, ProviderEnvironment, EmbeddedDefaultHost, EmbeddedDefault,
  DashboardNotice,
} from './plugin/plugin-manifest';
export type {
  PluginRuntime, PluginJobRuntime, PluginSetupContext, PluginLogger, PluginHttpRequest, PluginHttpResponse, PluginQuery,
  PluginRouteHandler, PluginJobProcessor, PathParams,
} from './plugin/plugin-runtime';

// The port: payments, the plugin's own tables, settings.
export type { PaymentsPort, PaymentChange, ProviderEvent, RefundChange, ConfirmKind } from './port/payments-port';
export type { StoredMethodsPort, StoredMethodRecord, PlanRecord } from './port/stored-methods-port';
export type { PaymentRecord, OrderRecord, EventRecord, OrganizerRecord, PaymentWithOrder, RefundRecord } from './persistence/payment-port-rows';
export type { PluginDb, PluginStatement, PluginMigration } from './port/plugin-db';
export type { PluginSettings } from './port/plugin-settings';
export { globalSettings, organizerSettings, eventSettings, type SettingsTarget, type DisplaySettings } from './settings/settings-store';
export type { SettingScope } from './settings/setting.entity';
export type { SecretEnvelope } from './settings/secret-box';
// JSON Schema validation as core does it (strict ajv, readable errors), for a plugin's own checks.
export { createAjv, describeAjvErrors } from './settings/json-schema';
// pretix's fee arithmetic (percent + absolute, integer minor units), for fees a plugin computes itself (Stripe Connect's platform fee).
export { calculateFee, type FeeRule } from './provider/payment-fee';
// Human sentences for a plugin's own log action codes (PluginDefinition.logSentences).
export type { LogSentence } from './audit/log-sentences';
// A plugin's payment reminders: its open payments with what a buyer email needs (PaymentsPort.openPayments).
export type { OpenPaymentRecord } from './persistence/plugin-mail.store';
// Team permissions a plugin's control route may require (PluginRoute.permission).
export type { TeamPermission } from './organizer/team-permissions';
