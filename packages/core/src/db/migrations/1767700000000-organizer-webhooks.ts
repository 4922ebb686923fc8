import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Organizer webhooks (core/src/webhook): endpoints per organizer with their event types and a
 * sealed signing secret, and one delivery row per (endpoint, outbox event) with what was sent,
 * what came back and how often it was tried. The unique pair makes a redelivered outbox event
 * create no second delivery.
 */
export class OrganizerWebhooks1767700000000 implements MigrationInterface {
  name = 'OrganizerWebhooks1767700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook_endpoint (
        id uuid PRIMARY KEY,
        organizer_id uuid NOT NULL REFERENCES organizer (id) ON DELETE CASCADE,
        url text NOT NULL CHECK (length(url) <= 2000),
        event_types text[] NOT NULL,
        secret jsonb NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        comment text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX webhook_endpoint_organizer ON webhook_endpoint (organizer_id, created_at)');
    await q.query(`
      CREATE TABLE webhook_delivery (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        endpoint_id uuid NOT NULL REFERENCES webhook_endpoint (id) ON DELETE CASCADE,
        organizer_id uuid NOT NULL REFERENCES organizer (id) ON DELETE CASCADE,
        outbox_event_id bigint NOT NULL,
        event_type text NOT NULL,
        payload jsonb NOT NULL,
        state text NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        response_status integer NULL,
        response_body text NULL,
        error text NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_attempt_at timestamptz NULL,
        UNIQUE (endpoint_id, outbox_event_id)
      )`);
    await q.query('CREATE INDEX webhook_delivery_endpoint ON webhook_delivery (endpoint_id, created_at DESC)');
    await q.query('CREATE INDEX webhook_delivery_event ON webhook_delivery (outbox_event_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE webhook_delivery');
    await q.query('DROP TABLE webhook_endpoint');
  }
}
