import path from 'node:path';
import { definePlugin, defineRoute, type Plugin } from '@kassa/core';
import { stripeEmbeddedDefault } from './embedded';
import { stripeErrors } from './errors';
import { pollEventsJob, processEventJob, processEventsJob, sweepInboxJob, syncPaymentsJob } from './jobs/stripe-jobs';
import { StripeInit1764100000000 } from './migrations/1764100000000-stripe-init';
import { StripeWebhookEndpoints1764100000001 } from './migrations/1764100000001-stripe-webhook-endpoints';
import { StripeEndpointSecrets1765100000000 } from './migrations/1765100000000-stripe-endpoint-secrets';
import { StripeConnectedAccounts1767200000000 } from './migrations/1767200000000-stripe-connected-accounts';
import { connectTransferJob } from './connect/connect-transfer-job';
import { connectDashboardNotices } from './connect/dashboard-notices';
import { CONNECT_WEBHOOK_PATH, handleConnectWebhook } from './connect/connect-webhook';
import {
  handleConnectPage, handleDisconnect, handleOAuthReturn, handleOAuthStart, handleOnboardRefresh, handleOnboardReturn, handleOnboardStart,
} from './connect/connect-routes';
import { StripeSetupIntents1767300000001 } from './migrations/1767300000001-stripe-setup-intents';
import { StripeConnectPayouts1768300000000 } from './migrations/1768300000000-stripe-connect-payouts';
import { StripeConnectTestAccess1769100000000 } from './migrations/1769100000000-stripe-connect-test-access';
import { handlePayoutCsv, handlePayoutPage, handlePayoutsPage } from './connect/payouts/payout-routes';
import {
  handleOperatorAccount, handleOperatorEndpoint, handleOperatorPage, handleOperatorPayout, handleOperatorSchedule,
} from './connect/payouts/operator-routes';
import { handleCardRefreshPage, handleCardReturn, handleCardSetup } from './routes/card-refresh-routes';
import { auditSetupsJob } from './saved-methods/setup-audit-job';
import { handleBankAdd, handleBankDefault, handleBankDelete, handleCustomPage, handleRequirementsSubmit, handleUpdateLink } from './connect/custom/custom-routes';
import { ENDPOINT_KEYS_SETTING, handleCapture, handleCreateWebhookEndpoint, handleRelease } from './routes/control-routes';
import { handleIntent, handlePayPage, handleReturn } from './routes/checkout-routes';
import { StripeProvider } from './stripe-provider';
import { createStripeState, type StripeState } from './stripe-state';
import { handleWebhook } from './webhooks/webhook-route';
import { handleInstanceEndpoint, handleInstancePage } from './routes/instance-routes';
import { StripeWalletDomains1767100000000 } from './migrations/1767100000000-stripe-wallet-domains';
import { syncWalletDomainsJob } from './wallets/wallet-domain-jobs';
import { handleWalletDomainsCheck, handleWalletDomainsPage } from './wallets/wallet-domain-routes';

/** Folder of the plugin's Eta partials ("stripe/checkout", "stripe/control", …). */
export const stripeViewsDir = path.resolve(__dirname, '..', 'views');

/**
 * The Stripe plugin as plain data: the provider, its own tables' migrations, its error codes, the
 * routes (mounted by the server under /plugins/stripe), the jobs (run by the worker), the per-host
 * state (`setup`) and the embedded default (the offline emulator). Creating it sets nothing up.
 */
export function createStripePlugin(): Plugin<StripeState> {
  return definePlugin<StripeState>({
    name: 'stripe',
    version: '0.1.0',
    coreRange: '^0.1.0',
    description: 'Stripe: Payment Element checkout with SCA, manual capture, refunds, verified webhooks, disputes, and express wallets with payment method domains',
    providers: [StripeProvider],
    migrations: [StripeInit1764100000000, StripeWebhookEndpoints1764100000001, StripeEndpointSecrets1765100000000, StripeWalletDomains1767100000000, StripeConnectedAccounts1767200000000, StripeSetupIntents1767300000001, StripeConnectPayouts1768300000000, StripeConnectTestAccess1769100000000],
    errors: stripeErrors,
    setup: createStripeState,
    dashboardNotices: connectDashboardNotices,
    views: stripeViewsDir,
    routes: [
      defineRoute({ method: 'POST', path: '/webhook/:account', kind: 'webhook', handler: handleWebhook }),
      defineRoute({ method: 'POST', path: CONNECT_WEBHOOK_PATH, kind: 'webhook', handler: handleConnectWebhook }),
      defineRoute({ method: 'GET', path: '/pay/:paymentId/:token', kind: 'shop', handler: handlePayPage }),
      defineRoute({ method: 'POST', path: '/intent/:paymentId/:token', kind: 'shop', handler: handleIntent }),
      defineRoute({ method: 'GET', path: '/return/:paymentId/:token', kind: 'shop', handler: handleReturn }),
      defineRoute({ method: 'POST', path: '/control/payments/:paymentId/capture', kind: 'control', handler: handleCapture, oneTime: { paymentParam: 'paymentId' }, permission: 'event.orders.change' }),
      defineRoute({ method: 'POST', path: '/control/payments/:paymentId/release', kind: 'control', handler: handleRelease, oneTime: { paymentParam: 'paymentId' }, permission: 'event.orders.change' }),
      // The settings page offers the button only where the keys are set below the instance (`keysSetting`).
      defineRoute({ method: 'POST', path: '/control/webhook-endpoint', kind: 'control', handler: handleCreateWebhookEndpoint, options: { keysSetting: ENDPOINT_KEYS_SETTING } }),
      defineRoute({ method: 'GET', path: '/control/wallet-domains', kind: 'control', handler: handleWalletDomainsPage, permission: 'organizer.settings' }),
      defineRoute({ method: 'POST', path: '/control/wallet-domains/check', kind: 'control', handler: handleWalletDomainsCheck, permission: 'organizer.settings' }),
      // Stripe Connect (connect/connect-routes.ts)
      defineRoute({ method: 'GET', path: '/control/connect', kind: 'control', handler: handleConnectPage }),
      defineRoute({ method: 'GET', path: '/control/connect/oauth', kind: 'control', handler: handleOAuthStart }),
      defineRoute({ method: 'GET', path: '/control/connect/oauth/return', kind: 'control', handler: handleOAuthReturn }),
      defineRoute({ method: 'POST', path: '/control/connect/onboard', kind: 'control', handler: handleOnboardStart }),
      defineRoute({ method: 'GET', path: '/control/connect/onboard/refresh', kind: 'control', handler: handleOnboardRefresh }),
      defineRoute({ method: 'GET', path: '/control/connect/onboard/return', kind: 'control', handler: handleOnboardReturn }),
      defineRoute({ method: 'POST', path: '/control/connect/disconnect', kind: 'control', handler: handleDisconnect }),
      // Saved cards: the card refresh page of a payment plan (docs/payment-plans.md)
      defineRoute({ method: 'GET', path: '/card/:paymentId/:token', kind: 'shop', handler: handleCardRefreshPage }),
      defineRoute({ method: 'POST', path: '/card-setup/:paymentId/:token', kind: 'shop', handler: handleCardSetup }),
      defineRoute({ method: 'GET', path: '/card-return/:paymentId/:token', kind: 'shop', handler: handleCardReturn }),
      // Custom accounts kept inside Kassa (connect/custom/custom-routes.ts)
      defineRoute({ method: 'GET', path: '/control/connect/custom', kind: 'control', handler: handleCustomPage, permission: 'organizer.settings' }),
      defineRoute({ method: 'POST', path: '/control/connect/custom/requirements', kind: 'control', handler: handleRequirementsSubmit, permission: 'organizer.settings' }),
      defineRoute({ method: 'POST', path: '/control/connect/custom/bank-accounts', kind: 'control', handler: handleBankAdd, permission: 'organizer.settings' }),
      defineRoute({ method: 'POST', path: '/control/connect/custom/bank-accounts/:bankAccountId/default', kind: 'control', handler: handleBankDefault, permission: 'organizer.settings' }),
      defineRoute({ method: 'POST', path: '/control/connect/custom/bank-accounts/:bankAccountId/delete', kind: 'control', handler: handleBankDelete, permission: 'organizer.settings' }),
      defineRoute({ method: 'GET', path: '/control/connect/custom/update', kind: 'control', handler: handleUpdateLink, permission: 'organizer.settings' }),
      // Connect payouts and reconciliation (connect/payouts/): the organizer's pages, then the operator's
      defineRoute({ method: 'GET', path: '/control/connect/payouts', kind: 'control', handler: handlePayoutsPage, permission: 'organizer.settings' }),
      defineRoute({ method: 'GET', path: '/control/connect/payouts/:payoutId', kind: 'control', handler: handlePayoutPage, permission: 'organizer.settings' }),
      defineRoute({ method: 'GET', path: '/control/connect/payouts/:payoutId/csv', kind: 'control', handler: handlePayoutCsv, permission: 'organizer.settings' }),
      defineRoute({ method: 'GET', path: '/control/connect/operator', kind: 'control', handler: handleOperatorPage, permission: 'operator' }),
      defineRoute({ method: 'POST', path: '/control/connect/operator/webhook-endpoint', kind: 'control', handler: handleOperatorEndpoint, permission: 'operator' }),
      defineRoute({ method: 'GET', path: '/control/connect/operator/accounts/:connectionId', kind: 'control', handler: handleOperatorAccount, permission: 'operator' }),
      defineRoute({ method: 'POST', path: '/control/connect/operator/accounts/:connectionId/schedule', kind: 'control', handler: handleOperatorSchedule, permission: 'operator' }),
      defineRoute({ method: 'POST', path: '/control/connect/operator/accounts/:connectionId/payouts', kind: 'control', handler: handleOperatorPayout, permission: 'operator' }),
      // The instance-level account's webhook endpoint (routes/instance-routes.ts), operators only
      defineRoute({ method: 'GET', path: '/control/instance', kind: 'control', handler: handleInstancePage, permission: 'operator' }),
      defineRoute({ method: 'POST', path: '/control/instance/webhook-endpoint', kind: 'control', handler: handleInstanceEndpoint, permission: 'operator' }),
    ],
    jobs: [processEventJob, processEventsJob, sweepInboxJob, pollEventsJob, syncPaymentsJob, syncWalletDomainsJob, connectTransferJob, auditSetupsJob],
    embeddedDefault: stripeEmbeddedDefault,
    logSentences: {
      'kassa.stripe.setup.abandoned': {
        en: 'Card setup[ {setupIntentId}] not completed within an hour, abandoned',
        de: 'Karteneinrichtung[ {setupIntentId}] nicht innerhalb einer Stunde abgeschlossen, aufgegeben',
      },
      'kassa.stripe.dispute.updated': {
        en: 'Stripe dispute on payment {payment} of {amount}: {status}[ (reason: {reason})]',
        de: 'Stripe-Zahlungsanfechtung zu Zahlung {payment} über {amount}: {status}[ (Grund: {reason})]',
      },
    },
  });
}
