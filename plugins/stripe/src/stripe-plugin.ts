import path from 'node:path';
import { definePlugin, defineRoute, type Plugin } from '@kassa/core';
import { stripeEmbeddedDefault } from './embedded';
import { stripeErrors } from './errors';
import { pollEventsJob, processEventJob, sweepInboxJob, syncPaymentsJob } from './jobs/stripe-jobs';
import { StripeInit1764100000000 } from './migrations/1764100000000-stripe-init';
import { StripeWebhookEndpoints1764100000001 } from './migrations/1764100000001-stripe-webhook-endpoints';
import { StripeEndpointSecrets1765100000000 } from './migrations/1765100000000-stripe-endpoint-secrets';
import { handleCapture, handleCreateWebhookEndpoint, handleRelease } from './routes/control-routes';
import { handleIntent, handlePayPage, handleReturn } from './routes/checkout-routes';
import { StripeProvider } from './stripe-provider';
import { createStripeState, type StripeState } from './stripe-state';
import { handleWebhook } from './webhooks/webhook-route';
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
    migrations: [StripeInit1764100000000, StripeWebhookEndpoints1764100000001, StripeEndpointSecrets1765100000000, StripeWalletDomains1767100000000],
    errors: stripeErrors,
    setup: createStripeState,
    views: stripeViewsDir,
    routes: [
      defineRoute({ method: 'POST', path: '/webhook/:account', kind: 'webhook', handler: handleWebhook }),
      defineRoute({ method: 'GET', path: '/pay/:paymentId/:token', kind: 'shop', handler: handlePayPage }),
      defineRoute({ method: 'POST', path: '/intent/:paymentId/:token', kind: 'shop', handler: handleIntent }),
      defineRoute({ method: 'GET', path: '/return/:paymentId/:token', kind: 'shop', handler: handleReturn }),
      defineRoute({ method: 'POST', path: '/control/payments/:paymentId/capture', kind: 'control', handler: handleCapture, oneTime: { paymentParam: 'paymentId' }, permission: 'event.orders.change' }),
      defineRoute({ method: 'POST', path: '/control/payments/:paymentId/release', kind: 'control', handler: handleRelease, oneTime: { paymentParam: 'paymentId' }, permission: 'event.orders.change' }),
      defineRoute({ method: 'POST', path: '/control/webhook-endpoint', kind: 'control', handler: handleCreateWebhookEndpoint }),
      defineRoute({ method: 'GET', path: '/control/wallet-domains', kind: 'control', handler: handleWalletDomainsPage, permission: 'organizer.settings' }),
      defineRoute({ method: 'POST', path: '/control/wallet-domains/check', kind: 'control', handler: handleWalletDomainsCheck, permission: 'organizer.settings' }),
    ],
    jobs: [processEventJob, sweepInboxJob, pollEventsJob, syncPaymentsJob, syncWalletDomainsJob],
    embeddedDefault: stripeEmbeddedDefault,
  });
}
