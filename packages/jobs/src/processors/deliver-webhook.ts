import type { Job } from 'bullmq';
import { loadWebhookDeliveryForJob, recordWebhookAttempt, signWebhook, webhookSignatureHeader, type WebhookService } from '@kassa/core/host';
import type { JobsContext } from '../context';
import { PermanentJobError } from '../job-errors';
import type { DeliverWebhookPayload } from '../queues';
import { isLastAttempt } from '../retry-policy';
import { postWebhook } from '../webhooks/post-webhook';

export interface DeliverWebhookOptions {
  webhooks: Pick<WebhookService, 'openSecret' | 'allowPrivateAddresses'>;
  timeoutMs: number;
}

/**
 * Sends one organizer-webhook delivery: signs the stored body (Kassa-Signature: t=…,v1=…), POSTs
 * it outside any transaction, and records the attempt. A 2xx answer delivers it; anything else
 * throws so BullMQ retries with backoff, and the last attempt leaves it undeliverable (retryable
 * by hand from the control panel or the API). A delivered or removed one is not sent again.
 */
export function deliverWebhookProcessor(ctx: JobsContext, opts: DeliverWebhookOptions) {
  return async (job: Job<DeliverWebhookPayload>): Promise<{ status: number | null }> => {
    const row = await loadWebhookDeliveryForJob(ctx.dataSource, job.data.deliveryId);
    if (!row) return { status: null };
    if (row.state === 'delivered') return { status: null };
    const now = ctx.clock.now();
    if (!row.enabled) {
      await recordWebhookAttempt(ctx.dataSource, row.id, { state: 'undeliverable', responseStatus: null, responseBody: null, error: 'the endpoint is disabled', at: now });
      return { status: null };
    }
    const body = JSON.stringify(row.payload);
    const secret = opts.webhooks.openSecret(row.endpointId, row.sealedSecret);
    const result = await postWebhook(row.url, body, {
      allowPrivateAddresses: opts.webhooks.allowPrivateAddresses, timeoutMs: opts.timeoutMs,
      headers: { [webhookSignatureHeader]: signWebhook(secret, body, now), 'Kassa-Delivery': row.id },
    });
    const ok = result.status !== null && result.status >= 200 && result.status < 300;
    const last = isLastAttempt(job);
    const error = ok ? null : result.error ?? `answered HTTP ${result.status}`;
    await recordWebhookAttempt(ctx.dataSource, row.id, {
      state: ok ? 'delivered' : last ? 'undeliverable' : 'queued', responseStatus: result.status, responseBody: result.body, error, at: ctx.clock.now(),
    });
    if (!ok) {
      const message = `webhook delivery ${row.id} to ${row.url} failed: ${error}`;
      throw last ? new PermanentJobError(message) : new Error(message);
    }
    return { status: result.status };
  };
}
