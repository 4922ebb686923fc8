import { randomUUID } from 'node:crypto';
import { globalSettings, type PluginHttpResponse } from '@kassa/core';
import { STRIPE_ROUTE_PREFIX } from '../stripe-provider';
import type { StripeRuntime } from '../stripe-state';
import { SYNC_WALLET_DOMAINS_JOB, walletDomainsJobId } from '../wallets/wallet-domain-jobs';
import { createWebhookEndpoint } from './control-routes';
import { operatorOnly, requestIdOf, type OperatorRequest } from './operator-forms';

/*
 * The instance operator's Stripe page: the webhook endpoint of the instance-level account (the keys
 * in KASSA_INSTANCE_SETTINGS). Organizers create their own account's endpoint on their Stripe
 * settings; the instance-level one only the operator may create, and without this page only the
 * embedded default did (at start). Routes with permission 'operator': everyone else gets "not found".
 */

export const INSTANCE_PAGE = `${STRIPE_ROUTE_PREFIX}/control/instance`;

type Req = OperatorRequest;

/** GET /plugins/stripe/control/instance — the instance account's webhook endpoints and the button. */
export async function handleInstancePage(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  operatorOnly(req);
  const endpoints = await rt.db.query<{ endpoint_id: string; account_id: string; created_at: Date; secret: unknown }>(
    `SELECT endpoint_id, account_id, created_at, secret FROM stripe_webhook_endpoint WHERE scope = 'global' ORDER BY created_at DESC LIMIT 50`,
  );
  return {
    status: 200,
    title: 'Stripe (operator)',
    view: {
      partial: 'stripe/instance',
      data: {
        created: req.query.notice === 'endpoint',
        requestId: randomUUID(),
        endpointUrl: `${INSTANCE_PAGE}/webhook-endpoint`,
        endpoints: endpoints.map((e) => ({
          id: e.endpoint_id, account: e.account_id, active: e.secret !== null,
          created: new Date(e.created_at).toISOString().slice(0, 16).replace('T', ' '),
        })),
      },
    },
  };
}

/**
 * POST /plugins/stripe/control/instance/webhook-endpoint — creates the endpoint of the instance's
 * own account at Stripe (pinned API version), its secret kept for that account only. The form's
 * request id is the idempotency key: a double submit creates one endpoint.
 */
export async function handleInstanceEndpoint(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  operatorOnly(req);
  const requestId = requestIdOf(req);
  const created = await createWebhookEndpoint(rt, globalSettings, requestId);
  await rt.enqueue(SYNC_WALLET_DOMAINS_JOB, { accountId: created.account }, { jobId: walletDomainsJobId(created.account) });
  return { redirect: `${INSTANCE_PAGE}?notice=endpoint`, status: 303 };
}
