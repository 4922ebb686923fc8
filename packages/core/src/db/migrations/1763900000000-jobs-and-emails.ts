import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tables the jobs package needs: the effects ledger that makes outbox handlers idempotent, the
 * per-event delivery record that keeps handling in order per order, and stored emails (the
 * embedded default keeps emails here for the control panel; with SMTP they record what was sent).
 */
export class JobsAndEmails1763900000000 implements MigrationInterface {
  name = 'JobsAndEmails1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE outbox_effect (
        handler text NOT NULL,
        event_id bigint NOT NULL REFERENCES outbox_event(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (handler, event_id)
      );
      CREATE TABLE outbox_delivery (
        event_id bigint PRIMARY KEY REFERENCES outbox_event(id) ON DELETE CASCADE,
        order_id uuid,
        state text NOT NULL CHECK (state IN ('done', 'failed')),
        error text,
        finished_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX outbox_event_order_seq ON outbox_event (order_id, id) WHERE order_id IS NOT NULL;
      CREATE TABLE email_message (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        dedup_key text NOT NULL UNIQUE,
        organizer_id uuid REFERENCES organizer(id) ON DELETE CASCADE,
        order_id uuid REFERENCES kassa_order(id) ON DELETE SET NULL,
        cause_event_id bigint,
        template text NOT NULL,
        locale text NOT NULL,
        recipient text NOT NULL,
        subject text NOT NULL,
        body_text text NOT NULL,
        body_html text NOT NULL,
        message_id text NOT NULL UNIQUE,
        transport text NOT NULL CHECK (transport IN ('smtp', 'stored')),
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz,
        last_error text
      );
      CREATE INDEX email_message_organizer_created ON email_message (organizer_id, created_at DESC);
      CREATE INDEX email_message_order ON email_message (order_id);
      CREATE INDEX email_message_cause_event ON email_message (cause_event_id) WHERE cause_event_id IS NOT NULL;
      CREATE INDEX email_message_unsent ON email_message (created_at) WHERE transport = 'smtp' AND sent_at IS NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE email_message;
      DROP INDEX outbox_event_order_seq;
      DROP TABLE outbox_delivery;
      DROP TABLE outbox_effect;
    `);
  }
}
