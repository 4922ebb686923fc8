import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { systemClock, type Clock } from '../clock';
import { KassaError } from '../errors';
import { isUuid } from '../persistence/rows';
import {
  deleteWebhookEndpoint, findWebhookDelivery, findWebhookEndpoint, insertWebhookEndpoint, listWebhookDeliveries, listWebhookEndpoints,
  insertWebhookPing, requeueWebhookDelivery, updateWebhookEndpoint,
} from '../persistence/webhook.store';
import { openSecret, sealSecret } from '../settings/secret-box';
import { webhookUrlProblem } from './webhook-address';
import {
  webhookEventTypes, type WebhookDelivery, type WebhookDeliverySummary, type WebhookEndpoint, type WebhookEventType,
} from './webhook-types';

export interface WebhookServiceOptions {
  dataSource: DataSource;
  /** The instance's secret key (KASSA_SECRET_KEY): signing secrets are stored sealed with it. */
  secretKey: Buffer;
  /** Operator's choice (KASSA_WEBHOOKS_ALLOW_PRIVATE): endpoints on private and loopback addresses. */
  allowPrivateAddresses?: boolean;
  clock?: Clock;
}

export interface WebhookEndpointInput {
  url: string;
  eventTypes: readonly string[];
  enabled?: boolean;
  comment?: string;
}

/** An endpoint with its signing secret in clear: answered once, on creation and on rotation. */
export interface WebhookEndpointWithSecret {
  endpoint: WebhookEndpoint;
  secret: string;
}

const secretAad = (endpointId: string) => `webhook_endpoint:${endpointId}`;

/**
 * Organizer webhooks: endpoints (CRUD, secret rotation) and their delivery log, always scoped to
 * one organizer (another organizer's endpoint or delivery is NOT_FOUND). Deliveries are created
 * by the jobs' outbox handler and sent by the deliver-webhook job (packages/jobs/src/webhooks).
 */
export class WebhookService {
  private readonly ds: DataSource;
  private readonly key: Buffer;
  private readonly clock: Clock;
  readonly allowPrivateAddresses: boolean;

  constructor(opts: WebhookServiceOptions) {
    this.ds = opts.dataSource;
    this.key = opts.secretKey;
    this.clock = opts.clock ?? systemClock;
    this.allowPrivateAddresses = opts.allowPrivateAddresses ?? false;
  }

  list(organizerId: string): Promise<WebhookEndpoint[]> {
    return listWebhookEndpoints(this.ds, organizerId);
  }

  async get(organizerId: string, endpointId: string): Promise<WebhookEndpoint> {
    const found = isUuid(endpointId) ? await findWebhookEndpoint(this.ds, organizerId, endpointId) : null;
    if (!found) throw new KassaError('NOT_FOUND', { entity: 'Webhook' });
    return found;
  }

  async create(organizerId: string, input: WebhookEndpointInput): Promise<WebhookEndpointWithSecret> {
    const url = this.checkUrl(input.url);
    const eventTypes = checkEventTypes(input.eventTypes);
    const id = randomUUID();
    const secret = newSecret();
    const endpoint = await insertWebhookEndpoint(this.ds, {
      id, organizerId, url, eventTypes, secret: sealSecret(this.key, secret, secretAad(id)), enabled: input.enabled ?? true,
      comment: input.comment ?? '', now: this.clock.now(),
    });
    return { endpoint, secret };
  }

  async update(organizerId: string, endpointId: string, patch: Partial<WebhookEndpointInput>): Promise<WebhookEndpoint> {
    await this.get(organizerId, endpointId);
    const updated = await updateWebhookEndpoint(this.ds, organizerId, endpointId, {
      url: patch.url === undefined ? undefined : this.checkUrl(patch.url),
      eventTypes: patch.eventTypes === undefined ? undefined : checkEventTypes(patch.eventTypes),
      enabled: patch.enabled, comment: patch.comment, now: this.clock.now(),
    });
    if (!updated) throw new KassaError('NOT_FOUND', { entity: 'Webhook' });
    return updated;
  }

  /** A new signing secret; the old one stops working at once. */
  async rotateSecret(organizerId: string, endpointId: string): Promise<WebhookEndpointWithSecret> {
    await this.get(organizerId, endpointId);
    const secret = newSecret();
    const endpoint = await updateWebhookEndpoint(this.ds, organizerId, endpointId, { secret: sealSecret(this.key, secret, secretAad(endpointId)), now: this.clock.now() });
    if (!endpoint) throw new KassaError('NOT_FOUND', { entity: 'Webhook' });
    return { endpoint, secret };
  }

  async remove(organizerId: string, endpointId: string): Promise<void> {
    if (!isUuid(endpointId) || !(await deleteWebhookEndpoint(this.ds, organizerId, endpointId))) throw new KassaError('NOT_FOUND', { entity: 'Webhook' });
  }

  async deliveries(organizerId: string, endpointId: string, page = 1, pageSize = 50): Promise<WebhookDeliverySummary[]> {
    await this.get(organizerId, endpointId);
    return listWebhookDeliveries(this.ds, organizerId, endpointId, pageSize, (page - 1) * pageSize);
  }

  async delivery(organizerId: string, deliveryId: string): Promise<WebhookDelivery> {
    const found = isUuid(deliveryId) ? await findWebhookDelivery(this.ds, organizerId, deliveryId) : null;
    if (!found) throw new KassaError('NOT_FOUND', { entity: 'Webhook delivery' });
    return found;
  }

  /** Marks a delivery queued again; the caller enqueues its job (retry from the control panel or API). */
  async requeue(organizerId: string, deliveryId: string): Promise<{ id: string; attempts: number }> {
    const found = isUuid(deliveryId) ? await requeueWebhookDelivery(this.ds, organizerId, deliveryId, 'queued') : null;
    if (!found) throw new KassaError('NOT_FOUND', { entity: 'Webhook delivery' });
    return found;
  }

  /**
   * A test ping: a queued delivery of type `ping` to this endpoint, which the caller enqueues. It is
   * signed, sent and logged like a real delivery, so the receiver's signature check can be tried.
   */
  async ping(organizerId: string, endpointId: string): Promise<WebhookDeliverySummary> {
    const found = isUuid(endpointId) ? await insertWebhookPing(this.ds, { id: randomUUID(), organizerId, endpointId, createdAt: this.clock.now(), state: 'queued' }) : null;
    if (!found) throw new KassaError('NOT_FOUND', { entity: 'Webhook' });
    return found;
  }

  /** The signing secret of a sealed row (the delivery job); throws when the row was sealed under another key or altered. */
  openSecret(endpointId: string, sealed: unknown): string {
    const opened = openSecret(this.key, sealed, secretAad(endpointId));
    if (!opened.ok || typeof opened.value !== 'string') throw new KassaError('CONFIG_INVALID', { detail: `webhook ${endpointId}: signing secret cannot be opened (${opened.ok ? 'malformed' : opened.reason})` });
    return opened.value;
  }

  private checkUrl(raw: string): string {
    const url = typeof raw === 'string' ? raw.trim() : '';
    const problem = url.length > 2000 ? 'is longer than 2000 characters' : webhookUrlProblem(url, this.allowPrivateAddresses);
    if (problem) throw new KassaError('VALIDATION_FAILED', { field: 'url', detail: `url ${problem}` });
    return url;
  }
}

function checkEventTypes(types: readonly string[]): WebhookEventType[] {
  const unknown = (types ?? []).filter((t) => !(webhookEventTypes as readonly string[]).includes(t));
  if (!Array.isArray(types) || types.length === 0 || unknown.length > 0) {
    throw new KassaError('VALIDATION_FAILED', { field: 'eventTypes', detail: `eventTypes must be one or more of ${webhookEventTypes.join(', ')}${unknown.length ? ` (not ${unknown.join(', ')})` : ''}` });
  }
  return [...new Set(types)] as WebhookEventType[];
}

function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64url')}`;
}
