// The host surface of @kassa/core (`@kassa/core/host`): what the server, jobs, the app and the
// test harness need besides the plugin port — services, persistence, configuration, start-up.
// Plugins never import this (a lint rule keeps them out); they get `@kassa/core`.
export * from './index';

// Everything below is for hosts only: entities, TypeORM, SQL helpers, the audit/outbox writers, services.

export { errorCodes } from './errors';
export * from './money/money';
export * from './money/currencies';
export { allocate } from './money/allocate';
export { formatMoney, minorUnitsToDecimalString, type FormatMoneyOptions } from './money/format';
export { parseMoney, type ParseMoneyOptions } from './money/parse';
export * from './state-machine';
export { type Clock, systemClock } from './clock';

export { orderMachine, orderStates, orderEvents, type OrderStatus, type OrderEvent, type OrderSet } from './order/order.machine';
export { paymentMachine, paymentStates, paymentEvents, type PaymentState, type PaymentEvent, type PaymentSet } from './payment/payment.machine';
export { refundMachine, refundStates, refundEvents, refundSources, type RefundState, type RefundEvent, type RefundSource, type RefundSet } from './refund/refund.machine';

export { Organizer } from './organizer/organizer.entity';
export { User } from './organizer/user.entity';
export { Team } from './organizer/team.entity';
export { ApiToken } from './organizer/api-token.entity';
export { Event } from './event/event.entity';
export { Product } from './event/product.entity';
export { Quota } from './event/quota.entity';
export { Order } from './order/order.entity';
export { OrderPosition } from './order/order-position.entity';
export { OrderFee, orderFeeTypes, type OrderFeeType } from './order/order-fee.entity';
export { OrderPayment } from './payment/order-payment.entity';
export { OrderRefund } from './refund/order-refund.entity';
export { LogEntry, actorTypes, type ActorType } from './audit/log-entry.entity';
export { logAction, systemActor, type Actor, type LogActionInput } from './audit/log-action';
export { OutboxEvent } from './outbox/outbox-event.entity';
export { OutboxEffect } from './outbox/outbox-effect.entity';
export { OutboxDelivery, outboxDeliveryStates, type OutboxDeliveryState } from './outbox/outbox-delivery.entity';
export { EmailMessage, emailTransports, type EmailTransport } from './email/email-message.entity';
export { emitEvent, outboxTopics, type OutboxTopic, type EmitEventInput } from './outbox/emit-event';
export { Setting, settingScopes, type SettingScope } from './settings/setting.entity';
export type { SecretEnvelope } from './settings/secret-box';

export { coreEntities } from './db/entities';
export { coreMigrations } from './db/migrations';
export { createDataSource, type DataSourceOptions, type EntityClass } from './db/data-source';
export { runMigrations } from './db/migrate';
export { withTransaction } from './db/with-transaction';
export { isDatabaseUnavailable } from './db/database-errors';
export { prepared, queryPrepared, type PreparedStatement } from './db/prepared-query';
export { startEmbeddedPostgres, embeddedPgDataSubdir, type EmbeddedPostgres, type EmbeddedPostgresOptions } from './db/embedded/embedded-postgres';
export { minorUnits } from './db/column-types';

// TypeORM, re-exported so that the hosts share exactly one TypeORM instance.
export {
  DataSource, EntityManager, Repository, In, IsNull, Not, LessThan, MoreThan,
  Entity, Column, PrimaryGeneratedColumn, PrimaryColumn, CreateDateColumn, UpdateDateColumn, Index, Unique,
  ManyToOne, OneToMany, JoinColumn,
  type MigrationInterface, type QueryRunner, type ObjectLiteral,
} from 'typeorm';

export { BasePaymentProvider, type JsonSchema, type PrepareResult } from './provider/base-payment-provider';
export type {
  PaymentOutcome, RefundOutcome, ViewModel, ProviderContext, AvailabilityQuery, PaymentCallInput, RefundCallInput,
} from './provider/provider-types';

// Providers, plugins, settings and configuration.
export { ProviderRegistry, providerIdentifierPattern } from './provider/provider-registry';
export type { ProviderLookup, ProviderContextFactory } from './provider/provider-registry.types';
export { createProviderContextFactory, providerSettingsNamespace, type ProviderContextDeps } from './provider/provider-context';
export {
  commonSettingsProperties, commonSettingKeys, toCommonSettings, providerNamespace, checkProviderSettingsSchema,
  type ProviderCommonSettings, type CommonSettingKey,
} from './provider/provider-settings';
export { checkAvailability, assertAvailable, type AvailabilityResult, type AvailabilityRefusal } from './provider/availability';
export { calculateProviderFee } from './provider/provider-fee';
export { ManualProvider, type ManualSettings } from './provider/builtin/manual.provider';
export { FreeProvider } from './provider/builtin/free.provider';
export { definePlugin, isPlugin } from './plugin/define-plugin';
export { loadPlugins, builtinPlugin, type LoadedPlugins, type LoadPluginsOptions } from './plugin/load-plugins';
export { coreVersion } from './plugin/core-version';
export type {
  PluginRuntime, PluginLogger, PluginHttpRequest, PluginHttpResponse, PluginRouteHandler, PluginJobProcessor,
} from './plugin/plugin-runtime';
export type {
  Plugin, PluginDefinition, PluginRoute, PluginJob, ProviderFactory, ProviderEnvironment, MigrationClass, AnyPaymentProvider,
  EmbeddedDefaultHost, EmbeddedDefault,
  DashboardNotice,
} from './plugin/plugin-manifest';
export { SettingsSchemas, type SettingsNamespaceDefinition, type CompiledNamespace } from './settings/settings-schemas';
export {
  SettingsStore, globalSettings, organizerSettings, eventSettings,
  type SettingsTarget, type SettingsStoreOptions, type ResolveOptions, type DisplaySettings, type RedactedSecret,
} from './settings/settings-store';
export { applyInstanceSettings } from './settings/instance-settings';
export { createAjv, describeAjvErrors } from './settings/json-schema';
export { findUnstorableInput, type UnstorableInput } from './validation/unstorable-input';
export { configSchema, logLevels, type AppConfig, type LogLevel } from './config/config.schema';
export { loadConfig, parseConfig, decodeSecretKey, parseInstanceSettings, type InstanceSettings } from './config/load-config';

// Domain services: orders, payments, refunds (createKassaCore is the entry point).
export { createKassaCore, type KassaCore } from './kassa-core';
export type { ServiceDeps } from './order/service-deps';
export { OrderService, type CancelOrderOptions, type CancelOrderResult, type MarkPaidOptions, type MarkPaidResult } from './order/order.service';
export { paymentRefusal, assertPayable, lastDatePassed, newPaymentDeadline, type PaymentRefusal, type PaymentRefusalCode, type PayabilityInput } from './order/order-payability';
export type { OrderChangeInput, OrderChangeOperation, OrderChangeResult } from './order/order-change';
export { FREE_PROVIDER, type PlaceOrderInput, type PlacedOrder } from './order/order-placement';
export { orderSumsJoins, orderSumsSql, orderSumsColumns, loadOrderSums, type OrderSums, type OrderFlag } from './order/order-sums';
export type { OrderSearchQuery, OrderSearchResult, OrderListRow } from './order/order-search';
export { PaymentService, type ConfirmResult, type ConfirmOptions, type ExecuteResult } from './payment/payment.service';
export type { PaymentMethodChangeResult, PaymentMethodQuote } from './payment/payment-method-change';
export { RefundService, MANUAL_PROVIDER, lastRefundId, refundOrderActions, type RefundOrderAction, type CreateRefundInput, type RefundResult, type RefundUpdate } from './refund/refund.service';
export { proposeRefundAmounts, type RefundCandidate, type RefundProposal } from './refund/refund-proposals';
export { calculateFee, type FeeRule } from './provider/payment-fee';
export { ActionKeyService, ACTION_KEY_LIFETIME_MS, isRefusal, type ActionKeyScope } from './action-key/action-key.service';
export { eventPageUrl, orderPageUrl, controlOrderUrl, type OrderLinkInput } from './links/order-links';

// The plugin port's host side: builds each plugin's runtime over the services (server, worker).
export { createPluginRuntimes, type PluginRuntimes, type PluginHostDeps, type PluginIo } from './port/plugin-host';
export { createPaymentsPort, type PaymentsPortDeps } from './port/payments-port';
export { createPluginDb } from './port/plugin-db';
export { createPluginSettings } from './port/plugin-settings';
export { pluginMark } from './plugin/plugin-manifest';

// Persistence of the outbox, deliveries, effects and emails (jobs calls these; no SQL of core's tables in jobs).
export { OutboxRelayStore, loadOutboxEvent, loadOutboxEventForDelivery, type OutboxEventRef, type OutboxEventRow } from './persistence/outbox-relay.store';
export { claimOutboxEffect, recordOutboxDelivery, type OutboxDeliveryRecord } from './persistence/outbox-delivery.store';
export {
  insertEmailMessage, unsentSmtpEmailsOfEvent, unsentSmtpEmailsBefore, loadOutgoingEmail, markEmailSent, recordEmailError,
  listEmailMessages, getEmailMessage, type NewEmailMessage, type OutgoingEmailRow, type EmailMessageQuery, type EmailMessageSummary,
} from './persistence/email-message.store';
export {
  loadOrderMailRow, loadPaymentAmount, loadPaymentAndOrderState, loadRefundForMail, organizerAdminEmails, ordersDueForReminder,
  type OrderMailRow, type ReminderDueQuery,
} from './persistence/mail-read.store';
export { organizersOfEmails, organizersOfOutboxEvents, organizersOfOrders } from './persistence/job-scope.store';
export { CatalogStore, type Availability, type LiveEventRow, type EventFields, type ProductFields } from './persistence/catalog.store';
export { AuthStore, type MembershipRow, type ApiTokenRow } from './persistence/auth.store';
export { OrderReadStore, type OrderParts, type DashboardFigures } from './persistence/order-read.store';
// The operator CLI (`pnpm kassa create-organizer|create-operator`): an organizer with its admin team, logins.
export { createOrganizerWithAdminTeam, createUser, findUserByEmail, hasAnyOrganizer, removeOrganizerAndUser, organizerSlugPattern, type NewOrganizer, type CreatedOrganizer, type NewUser } from './persistence/organizer-admin.store';
// The jobs runtime asks the open payment's provider for the order-placed email's payment text.
export { loadOpenPaymentForMail } from './persistence/mail-read.store';
// Organizer webhooks: endpoints and their delivery log (server), deliveries from outbox events and their attempts (jobs).
export { WebhookService, type WebhookServiceOptions, type WebhookEndpointInput, type WebhookEndpointWithSecret } from './webhook/webhook.service';
export {
  webhookEventTypes, webhookDeliveryStates, type WebhookEventType, type WebhookDeliveryState, type WebhookEndpoint, type WebhookDelivery,
  type WebhookDeliverySummary, type WebhookDeliveryJobRow,
} from './webhook/webhook-types';
export { signWebhook, verifyWebhookSignature, webhookSignatureHeader } from './webhook/webhook-signature';
export { isPrivateAddress, webhookUrlProblem, guardedLookup } from './webhook/webhook-address';
export { createWebhookDeliveries, queuedWebhookDeliveries, isWebhookTopic, type WebhookSourceEvent } from './webhook/webhook-deliveries';
export { loadWebhookDeliveryForJob, recordWebhookAttempt } from './persistence/webhook.store';
// Readable logs: a sentence (en, de) per log action code, core's and the plugins'.
export {
  coreLogSentences, describeLogEntry, checkLogSentences, logLocales, type LogSentence, type LogLocale, type LogSentenceContext, type LogObjectRef, type LogEntryLike,
} from './audit/log-sentences';
export { readableOrderLog, type ReadableLogEntry, type ReadableOrderLogOptions } from './audit/order-log';
// Exports, the data shredder and the dashboard chart (the server's control panel, API and their jobs).
export { streamExportRows, countExportRows, exportDatasets, type ExportDataset, type ExportScope, type ExportRowTypes, type OrderExportRow, type PaymentExportRow, type RefundExportRow } from './persistence/export-rows';
export { shredPreview, ordersToShred, type ShredScope, type ShredPreview } from './persistence/shred-preview';
export { eventChart, attentionFigures, type EventChart, type ChartDay, type AttentionFigures } from './persistence/dashboard-chart';
// Teams and permissions (control panel), the operator's organizer admin area.
export {
  organizerPermissions, eventPermissions, teamPermissions, permissionColumns, permissionLabels, hasPermission, isEventPermission, noPermissions,
  type OrganizerPermission, type EventPermission, type TeamPermission, type UserPermissions,
} from './organizer/team-permissions';
export { TeamStore, type TeamRow, type TeamInput, type InviteRow } from './persistence/team.store';
export { listOrganizers, findOrganizer, renameOrganizer, setOrganizerActive, type OrganizerSummary } from './persistence/organizer-admin.store';
// Stored payment methods, payment plans and charge runs (docs/payment-plans.md).
export { StoredMethodService } from './customer/stored-method.service';
export { PaymentPlanService, type PlanView } from './plan/payment-plan.service';
export { ChargeRunService, defaultRetryDelaysMs, type ChargeRunOptions, type ChargeRunResult } from './plan/charge-run.service';
export { instalmentMachine, instalmentStates, instalmentEvents, type InstalmentState, type InstalmentEvent, type InstalmentSet } from './plan/instalment.machine';
export { planMachine, planStates, planEvents, type PlanState, type PlanEvent, type PlanSet } from './plan/payment-plan.machine';
export { planSchedule, planRefusal, validatePlanSettings, type ScheduledInstalment } from './plan/plan-schedule';
export type { PlanSettingsRow, PlanRow, InstalmentRow } from './persistence/payment-plan.store';
export type { CustomerRow, StoredMethodRow } from './persistence/stored-method.store';
export type { StoredMethodRef, SavedMethodDetails, OffSessionChargeInput, OffSessionOutcome, ActionReason } from './provider/stored-method-types';
// Cart reservations (issue 17): the shop holds a buyer's tickets while they check out.
export { CartService, type CartLine, type CartHold, type ReserveOutcome } from './cart/cart.service';
export { type AvailabilityDetail } from './persistence/catalog.store';
export type { ApiTokenScope, ActiveApiToken } from './persistence/auth.store';
// Issue 18: the event's own log (the data shredder's run over an event)
export { readableEventLog, type ReadableEventLogOptions } from './audit/order-log';
export { writeEventTaskLog } from './persistence/event-log.store';
// Outbox delivery in batches (issue 17): the event jobs running at once share their round trips.
export { loadOutboxEventsForDelivery } from './persistence/outbox-relay.store';
export { settleOutboxBatch, outboxEffectKey, type OutboxEffectClaim, type SettledSuccessor } from './persistence/outbox-delivery.store';
// Group commit in Node (the outbox's event steps; the rate-limit counters and the pending step).
export { GroupBatcher, type BatchEntry } from './util/group-batcher';
export { InFlightBatcher } from './util/in-flight-batcher';
