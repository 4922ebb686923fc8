import type { DataSource, EntityManager } from 'typeorm';
import type {
  WebhookDelivery, WebhookDeliveryJobRow, WebhookDeliveryState, WebhookDeliverySummary, WebhookEndpoint, WebhookEventType,
} from '../webhook/webhook-types';

/** The SQL of tables webhook_endpoint and webhook_delivery (core/src/webhook). Every read is scoped by organizer. */

type Db = Pick<EntityManager, 'query'> | DataSource;

const endpointColumns = 'id, organizer_id, url, event_types, enabled, comment, created_at, updated_at';
const deliveryColumns = `id, endpoint_id, outbox_event_id::text AS outbox_event_id, event_type, state, attempts, response_status, error,
  created_at, last_attempt_at`;

interface EndpointRow {
  id: string; organizer_id: string; url: string; event_types: string[]; enabled: boolean; comment: string; created_at: Date; updated_at: Date;
}
interface DeliveryRow {
  id: string; endpoint_id: string; outbox_event_id: string | null; event_type: string; state: WebhookDeliveryState; attempts: number;
  response_status: number | null; error: string | null; created_at: Date; last_attempt_at: Date | null;
  payload?: Record<string, unknown>; response_body?: string | null;
}

function endpointOf(r: EndpointRow): WebhookEndpoint {
  return {
    id: r.id, organizerId: r.organizer_id, url: r.url, eventTypes: r.event_types as WebhookEventType[], enabled: r.enabled, comment: r.comment,
    createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

function deliveryOf(r: DeliveryRow): WebhookDeliverySummary {
  return {
    id: r.id, endpointId: r.endpoint_id, outboxEventId: r.outbox_event_id, eventType: r.event_type, state: r.state, attempts: r.attempts,
    responseStatus: r.response_status, error: r.error, createdAt: r.created_at, lastAttemptAt: r.last_attempt_at,
  };
}

/** UPDATE/DELETE … RETURNING comes back from TypeORM's query() as [rows, count]. */
function returned<T>(result: unknown): T[] {
  return (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as T[];
}

export async function insertWebhookEndpoint(db: Db, e: {
  id: string; organizerId: string; url: string; eventTypes: readonly string[]; secret: unknown; enabled: boolean; comment: string; now: Date;
}): Promise<WebhookEndpoint> {
  const rows: EndpointRow[] = await db.query(
    `INSERT INTO webhook_endpoint (id, organizer_id, url, event_types, secret, enabled, comment, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING ${endpointColumns}`,
    [e.id, e.organizerId, e.url, e.eventTypes, JSON.stringify(e.secret), e.enabled, e.comment, e.now],
  );
  return endpointOf(rows[0]!);
}

export async function listWebhookEndpoints(db: Db, organizerId: string): Promise<WebhookEndpoint[]> {
  const rows: EndpointRow[] = await db.query(`SELECT ${endpointColumns} FROM webhook_endpoint WHERE organizer_id = $1 ORDER BY created_at, id`, [organizerId]);
  return rows.map(endpointOf);
}

export async function findWebhookEndpoint(db: Db, organizerId: string, id: string): Promise<WebhookEndpoint | null> {
  const rows: EndpointRow[] = await db.query(`SELECT ${endpointColumns} FROM webhook_endpoint WHERE organizer_id = $1 AND id = $2`, [organizerId, id]);
  return rows[0] ? endpointOf(rows[0]) : null;
}

/** Changes the given fields; null when the endpoint is not the organizer's. */
export async function updateWebhookEndpoint(db: Db, organizerId: string, id: string, f: {
  url?: string; eventTypes?: readonly string[]; enabled?: boolean; comment?: string; secret?: unknown; now: Date;
}): Promise<WebhookEndpoint | null> {
  const result: unknown = await db.query(
    `UPDATE webhook_endpoint SET url = coalesce($3, url), event_types = coalesce($4, event_types), enabled = coalesce($5, enabled),
            comment = coalesce($6, comment), secret = coalesce($7::jsonb, secret), updated_at = $8
      WHERE organizer_id = $1 AND id = $2 RETURNING ${endpointColumns}`,
    [organizerId, id, f.url ?? null, f.eventTypes ?? null, f.enabled ?? null, f.comment ?? null, f.secret === undefined ? null : JSON.stringify(f.secret), f.now],
  );
  const rows = returned<EndpointRow>(result);
  return rows[0] ? endpointOf(rows[0]) : null;
}

/** Deletes the endpoint and its delivery log; false when it is not the organizer's. */
export async function deleteWebhookEndpoint(db: Db, organizerId: string, id: string): Promise<boolean> {
  const result: unknown = await db.query('DELETE FROM webhook_endpoint WHERE organizer_id = $1 AND id = $2 RETURNING id', [organizerId, id]);
  return returned(result).length > 0;
}

/**
 * One queued delivery per enabled endpoint of the organizer that subscribed to the event's type,
 * with the body that will be sent (the order's code and event read here, in the handler's
 * transaction). A redelivered outbox event inserts nothing (unique endpoint and event).
 */
export async function insertWebhookDeliveries(tx: Db, event: {
  id: string; type: string; organizerId: string; orderId: string | null; createdAt: string; data: Record<string, unknown>; state: WebhookDeliveryState;
}): Promise<number> {
  const result: unknown = await tx.query(
    `INSERT INTO webhook_delivery (endpoint_id, organizer_id, outbox_event_id, event_type, payload, state)
     SELECT e.id, e.organizer_id, $1::bigint, $2,
            jsonb_build_object('id', 'evt_' || $1::text, 'type', $2::text, 'createdAt', $3::text, 'organizerId', e.organizer_id,
              'data', $4::jsonb || jsonb_strip_nulls(jsonb_build_object('orderId', o.id, 'orderCode', o.code, 'eventId', o.event_id))),
            $5
       FROM webhook_endpoint e
       LEFT JOIN kassa_order o ON o.id = $6::uuid AND o.organizer_id = e.organizer_id
      WHERE e.organizer_id = $7 AND e.enabled AND $2 = ANY (e.event_types)
     ON CONFLICT (endpoint_id, outbox_event_id) DO NOTHING
     RETURNING id`,
    [event.id, event.type, event.createdAt, JSON.stringify(event.data), event.state, event.orderId, event.organizerId],
  );
  return returned(result).length;
}

/**
 * A test ping for one of the organizer's endpoints: a delivery with no outbox event behind it,
 * sent, signed and logged like any other (whatever event types the endpoint subscribed to). Null
 * when the endpoint is not the organizer's.
 */
export async function insertWebhookPing(db: Db, p: { id: string; organizerId: string; endpointId: string; createdAt: Date; state: WebhookDeliveryState }): Promise<WebhookDeliverySummary | null> {
  const result: unknown = await db.query(
    `INSERT INTO webhook_delivery (id, endpoint_id, organizer_id, outbox_event_id, event_type, payload, state, created_at)
     SELECT $1::uuid, e.id, e.organizer_id, NULL, 'ping',
            jsonb_build_object('id', 'ping_' || $1::text, 'type', 'ping', 'createdAt', $4::text, 'organizerId', e.organizer_id, 'data', jsonb_build_object('webhookId', e.id)),
            $5::text, $6::timestamptz
       FROM webhook_endpoint e WHERE e.organizer_id = $2 AND e.id = $3
     RETURNING ${deliveryColumns}`,
    [p.id, p.organizerId, p.endpointId, p.createdAt.toISOString(), p.state, p.createdAt],
  );
  const rows = returned<DeliveryRow>(result);
  return rows[0] ? deliveryOf(rows[0]) : null;
}

/** The deliveries of an outbox event still in `state` (to enqueue after the handler's commit). */
export async function webhookDeliveriesOfEvent(db: Db, eventId: string, state: WebhookDeliveryState): Promise<{ id: string; organizerId: string }[]> {
  const rows: { id: string; organizer_id: string }[] = await db.query(
    'SELECT id, organizer_id FROM webhook_delivery WHERE outbox_event_id = $1::bigint AND state = $2 ORDER BY id', [eventId, state],
  );
  return rows.map((r) => ({ id: r.id, organizerId: r.organizer_id }));
}

export async function listWebhookDeliveries(db: Db, organizerId: string, endpointId: string, limit: number, offset: number): Promise<WebhookDeliverySummary[]> {
  const rows: DeliveryRow[] = await db.query(
    `SELECT ${deliveryColumns} FROM webhook_delivery WHERE organizer_id = $1 AND endpoint_id = $2 ORDER BY created_at DESC, id LIMIT $3 OFFSET $4`,
    [organizerId, endpointId, limit, offset],
  );
  return rows.map(deliveryOf);
}

export async function findWebhookDelivery(db: Db, organizerId: string, id: string): Promise<WebhookDelivery | null> {
  const rows: DeliveryRow[] = await db.query(
    `SELECT ${deliveryColumns}, payload, response_body FROM webhook_delivery WHERE organizer_id = $1 AND id = $2`, [organizerId, id],
  );
  const r = rows[0];
  return r ? { ...deliveryOf(r), payload: r.payload ?? {}, responseBody: r.response_body ?? null } : null;
}

/** What the delivery job reads (outside any transaction): the body, the URL and the sealed secret. */
export async function loadWebhookDeliveryForJob(db: Db, id: string): Promise<WebhookDeliveryJobRow | null> {
  const rows: { id: string; organizer_id: string; endpoint_id: string; url: string; enabled: boolean; state: WebhookDeliveryState; payload: Record<string, unknown>; secret: unknown }[] =
    await db.query(
      `SELECT d.id, d.organizer_id, d.endpoint_id, e.url, e.enabled, d.state, d.payload, e.secret
         FROM webhook_delivery d JOIN webhook_endpoint e ON e.id = d.endpoint_id WHERE d.id = $1`, [id],
    );
  const r = rows[0];
  return r ? { id: r.id, organizerId: r.organizer_id, endpointId: r.endpoint_id, url: r.url, enabled: r.enabled, state: r.state, payload: r.payload, sealedSecret: r.secret } : null;
}

/** One attempt's outcome: the response (or the error) and the state it leaves the delivery in. */
export async function recordWebhookAttempt(db: Db, id: string, a: {
  state: WebhookDeliveryState; responseStatus: number | null; responseBody: string | null; error: string | null; at: Date;
}): Promise<void> {
  await db.query(
    `UPDATE webhook_delivery SET state = $2, attempts = attempts + 1, response_status = $3, response_body = $4, error = $5, last_attempt_at = $6
      WHERE id = $1`,
    [id, a.state, a.responseStatus, a.responseBody, a.error, a.at],
  );
}

/** Queues a delivery again (the control panel's or API's retry); its attempts so far stay counted. Null when not the organizer's. */
export async function requeueWebhookDelivery(db: Db, organizerId: string, id: string, state: WebhookDeliveryState): Promise<{ id: string; attempts: number } | null> {
  const result: unknown = await db.query(
    'UPDATE webhook_delivery SET state = $3 WHERE organizer_id = $1 AND id = $2 RETURNING id, attempts', [organizerId, id, state],
  );
  const rows = returned<{ id: string; attempts: number }>(result);
  return rows[0] ?? null;
}
