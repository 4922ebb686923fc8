import { defineMigration } from '@kassa/core';

/**
 * The webhook endpoints Kassa created at Stripe, with the settings level each one's signing secret
 * is stored on. An account registered at one level (say global) may get an endpoint from another
 * (an organizer sharing those keys); verification reads the secrets of every such level.
 */
export const StripeWebhookEndpoints1764100000001 = defineMigration({
  name: 'StripeWebhookEndpoints1764100000001',
  async up(q) {
    await q.query(`
      CREATE TABLE stripe_webhook_endpoint (
        endpoint_id text PRIMARY KEY,
        account_id text NOT NULL REFERENCES stripe_account (account_id) ON DELETE CASCADE,
        scope text NOT NULL CHECK (scope IN ('global', 'organizer', 'event')),
        organizer_id uuid NULL,
        event_id uuid NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX stripe_webhook_endpoint_account ON stripe_webhook_endpoint (account_id)`);
    // Endpoints created before this table existed: their secrets live at their account's own level.
    await q.query(`
      INSERT INTO stripe_webhook_endpoint (endpoint_id, account_id, scope, organizer_id, event_id)
      SELECT webhook_endpoint_id, account_id, scope, organizer_id, event_id FROM stripe_account WHERE webhook_endpoint_id IS NOT NULL`);
  },

  async down(q) {
    await q.query(`DROP TABLE stripe_webhook_endpoint`);
  }
});
