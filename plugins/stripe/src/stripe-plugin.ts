import path from 'node:path';
import { definePlugin, type Plugin, type PluginHandler, type PluginRouteHandler } from '@kassa/core';
import { stripeEntities } from './entities/stripe-entities';
import { pollEventsJob, processEventJob, sweepInboxJob, syncPaymentsJob } from './jobs/stripe-jobs';
import { StripeInit1764100000000 } from './migrations/1764100000000-stripe-init';
import { StripeWebhookEndpoints1764100000001 } from './migrations/1764100000001-stripe-webhook-endpoints';
import { StripeEndpointSecrets1765100000000 } from './migrations/1765100000000-stripe-endpoint-secrets';
import { handleCapture, handleCreateWebhookEndpoint, handleRelease } from './routes/control-routes';
import { handleIntent, handlePayPage, handleReturn } from './routes/checkout-routes';
import { StripeProvider } from './stripe-provider';
import { PROCESS_EVENT_JOB, handleWebhook } from './webhooks/webhook-route';

const route = (h: PluginRouteHandler): PluginHandler => h as unknown as PluginHandler;

/** Folder of the plugin's Eta partials ("stripe/checkout", "stripe/control", …). */
export const stripeViewsDir = path.resolve(__dirname, '..', 'views');

/**
 * The Stripe plugin as plain data: the provider, its tables and migration, the routes (mounted by
 * the server under /plugins/stripe) and the jobs (run by the worker). Creating it sets nothing up.
 */
export function createStripePlugin(): Plugin {
  return definePlugin({
    name: 'stripe',
    version: '0.1.0',
    coreRange: '^0.1.0',
    description: 'Stripe: Payment Element checkout with SCA, manual capture, refunds, verified webhooks and disputes',
    providers: [StripeProvider],
    entities: stripeEntities,
    migrations: [StripeInit1764100000000, StripeWebhookEndpoints1764100000001, StripeEndpointSecrets1765100000000],
    views: stripeViewsDir,
    routes: [
      { method: 'POST', path: '/webhook/:account', kind: 'webhook', handler: route(handleWebhook) },
      { method: 'GET', path: '/pay/:paymentId/:token', kind: 'shop', handler: route(handlePayPage) },
      { method: 'POST', path: '/intent/:paymentId/:token', kind: 'shop', handler: route(handleIntent) },
      { method: 'GET', path: '/return/:paymentId/:token', kind: 'shop', handler: route(handleReturn) },
      { method: 'POST', path: '/control/payments/:paymentId/capture', kind: 'control', handler: route(handleCapture) },
      { method: 'POST', path: '/control/payments/:paymentId/release', kind: 'control', handler: route(handleRelease) },
      { method: 'POST', path: '/control/webhook-endpoint', kind: 'control', handler: route(handleCreateWebhookEndpoint) },
    ],
    jobs: [
      { name: PROCESS_EVENT_JOB, processor: processEventJob as unknown as PluginHandler, attempts: 8 },
      { name: 'sweep-inbox', processor: sweepInboxJob as unknown as PluginHandler, repeat: { everyMs: 60_000 } },
      { name: 'poll-events', processor: pollEventsJob as unknown as PluginHandler, repeat: { everyMs: 60_000 } },
      { name: 'sync-payments', processor: syncPaymentsJob as unknown as PluginHandler, repeat: { everyMs: 5 * 60_000 } },
    ],
  });
}
