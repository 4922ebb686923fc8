import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 18's remaining organizer and operator pieces:
 * - API tokens with permissions, like a team's (pretix binds tokens to a team): the permissions a
 *   token holds and whether on all events or on chosen ones (api_token_event). Existing tokens keep
 *   what they could do (every permission on all events).
 * - The organizer a user last worked in (app_user.last_organizer_id), so a login opens it again.
 * - Test pings of organizer webhooks: a delivery without an outbox event.
 * - The event's own log (entries of no order, e.g. "personal data of 120 orders removed"), read by
 *   event without scanning every order's entries.
 */
export class TokenScopesAndPings1768800000000 implements MigrationInterface {
  name = 'TokenScopesAndPings1768800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE api_token
        ADD COLUMN permissions text[] NOT NULL
          DEFAULT ARRAY['organizer.teams', 'organizer.settings', 'organizer.events.create', 'event.settings', 'event.orders.view', 'event.orders.change'],
        ADD COLUMN all_events boolean NOT NULL DEFAULT true;
      ALTER TABLE api_token ALTER COLUMN permissions DROP DEFAULT;
      CREATE TABLE api_token_event (
        token_id uuid NOT NULL REFERENCES api_token(id) ON DELETE CASCADE,
        event_id uuid NOT NULL REFERENCES event(id) ON DELETE CASCADE,
        PRIMARY KEY (token_id, event_id)
      );
      ALTER TABLE app_user ADD COLUMN last_organizer_id uuid REFERENCES organizer(id) ON DELETE SET NULL;
      ALTER TABLE webhook_delivery ALTER COLUMN outbox_event_id DROP NOT NULL;
      CREATE INDEX log_entry_event_own ON log_entry (event_id, id) WHERE order_id IS NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX log_entry_event_own;
      DELETE FROM webhook_delivery WHERE outbox_event_id IS NULL;
      ALTER TABLE webhook_delivery ALTER COLUMN outbox_event_id SET NOT NULL;
      ALTER TABLE app_user DROP COLUMN last_organizer_id;
      DROP TABLE api_token_event;
      ALTER TABLE api_token DROP COLUMN all_events, DROP COLUMN permissions;
    `);
  }
}
