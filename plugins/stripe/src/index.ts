// @kassa/plugin-stripe: the only package that imports `stripe`. The default export is the plugin.
import { createStripePlugin } from './stripe-plugin';

export { createStripePlugin, stripeViewsDir } from './stripe-plugin';
export { StripeProvider, STRIPE_ROUTE_PREFIX, payPageUrl } from './stripe-provider';
export { stripeSettingsSchema, settingsProblems, STRIPE_JS_URL, type StripeSettings } from './settings-schema';
export { STRIPE_API_VERSION, createStripeClient, idempotencyKeys } from './stripe-client';
export { toStripeAmount, fromStripeAmount, isStripeRepresentable } from './amount';
export { verifyWebhook } from './webhook-signature';
export { intentVerdict, refundVerdict } from './status-map';
export { stripeErrors, stripeError, type StripeErrorCode } from './errors';
export { createStripeState, type StripeState, type StripeRuntime, type StripeJobRuntime } from './stripe-state';
export type { StripeAccount, StripeWebhookInbox, StripeObjectRef } from './db/stripe-rows';
export { StripeInit1764100000000 } from './migrations/1764100000000-stripe-init';
export { StripeWebhookEndpoints1764100000001 } from './migrations/1764100000001-stripe-webhook-endpoints';
export { StripeEndpointSecrets1765100000000 } from './migrations/1765100000000-stripe-endpoint-secrets';
export { handleWebhook, storeEvent, eventProblem } from './webhooks/webhook-route';
export { eventJobId, batchJobId, processEventBatch, PROCESS_EVENT_JOB, PROCESS_EVENTS_JOB } from './webhooks/event-batch';
export { processInboxEvent, routeEvent, MAX_EVENT_ATTEMPTS, MAX_MISSING_OBJECT_ATTEMPTS } from './webhooks/event-processor';
export { moveLegacySecrets, storeEndpointSecret, SECRETS_PER_LEVEL } from './webhooks/endpoint-secrets';
export { syncPayment, applyIntent, applyRefunds, applyDispute } from './reconcile';
export { pollAccountEvents, syncStuckPayments, sweepInbox } from './jobs/stripe-jobs';
export { registerAccount, webhookSecretsFor, STRIPE_NAMESPACE } from './stripe-account-context';
export { createWebhookEndpoint, WEBHOOK_EVENTS } from './routes/control-routes';
export { paymentLinkToken } from './intents';
export { embeddedStripeSettings, stripeEmbeddedDefault, EMBEDDED_STRIPE_KEY } from './embedded';
export { chargeAccount, type ChargeAccount } from './wallets/charge-account';
export { registerWalletDomain, registerWalletDomains, walletDomains } from './wallets/domain-registration';
export { syncWalletDomains } from './wallets/wallet-domain-sync';
export { StripeWalletDomains1767100000000 } from './migrations/1767100000000-stripe-wallet-domains';
export { StripeConnectedAccounts1767200000000 } from './migrations/1767200000000-stripe-connected-accounts';
export { platformFee } from './connect/platform-fee';
export { CHARGE_MODELS, REFUND_FEE_POLICIES, chargeModelFor, feeRuleFor, refundFeePolicyFor, type ChargeModel, type PlatformFeeRule, type ConnectSettings, type RefundFeePolicy } from './connect/connect-settings';
export { saveConnection, clearConnection, connectionFor, platformContext, type ConnectedAccount } from './connect/connected-accounts';
export { connectChargeFor, connectRefundFlags, type ConnectCharge, type ConnectPaymentInfo } from './connect/connect-charge';
export { transferSeparateCharge, CONNECT_TRANSFER_JOB } from './connect/connect-transfer-job';
export { createConnectWebhookEndpoint, handleConnectWebhook, CONNECT_WEBHOOK_EVENTS } from './connect/connect-webhook';

export default createStripePlugin();
