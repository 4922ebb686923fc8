import { randomUUID } from 'node:crypto';
import { KassaError, globalSettings, type PluginHttpRequest, type PluginHttpResponse } from '@kassa/core';
import { STRIPE_ROUTE_PREFIX } from '../stripe-provider';
import type { StripeRuntime } from '../stripe-state';
import { SYNC_WALLET_DOMAINS_JOB, walletDomainsJobId } from '../wallets/wallet-domain-jobs';
import { createWebhookEndpoint } from './control-routes';

/*
 * The instance operator's Stripe page: the webhook endpoint of the instance-level account (the keys
 * in KASSA_INSTANCE_SETTINGS). Organizers create their own account's endpoint on their Stripe
 * settings; the instance-level one only the operator may create, and without this page only the
 * embedded default did (at start). Routes with permission 'operator': everyone else gets "not found".
 */

export const INSTANCE_PAGE = `${STRIPE_ROUTE_PREFIX}/control/instance`;

type Req = PluginHttpRequest<Record<string, string>, Record<string, unknown> | undefined>;

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Defence in depth: the host checks the route's 'operator' permission before the handler runs. */
function operatorOnly(req: Req): void {
  if (req.isOperator !== true) throw new KassaError('NOT_FOUND', { entity: 'Page' });
}

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
  const requestId = typeof req.body?.requestId === 'string' ? req.body.requestId.trim() : '';
  if (!uuid.test(requestId)) throw new KassaError('VALIDATION_FAILED', { field: 'requestId', detail: 'requestId: reload the page (the form\'s request id is missing or malformed)' });
  const created = await createWebhookEndpoint(rt, globalSettings, requestId);
  await rt.enqueue(SYNC_WALLET_DOMAINS_JOB, { accountId: created.account }, { jobId: walletDomainsJobId(created.account) });
  return { redirect: `${INSTANCE_PAGE}?notice=endpoint`, status: 303 };
}
