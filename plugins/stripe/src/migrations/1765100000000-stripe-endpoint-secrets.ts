import { defineMigration } from '@kassa/core';

/**
 * One signing secret per webhook endpoint row, and a bounded end for inbox events that keep failing.
 *
 * The secrets stored so far live in the settings (payment.stripe webhookSecrets, one list per
 * level), encrypted with the instance's key, which a migration does not have. The plugin moves
 * them at its first verification after this migration (legacy-webhook-secrets.ts): each secret to
 * an endpoint row of the account whose keys are set at the level it was stored on, never to
 * another account's endpoint.
 */
export const StripeEndpointSecrets1765100000000 = defineMigration({
  name: 'StripeEndpointSecrets1765100000000',
  async up(q) {
    await q.query(`ALTER TABLE stripe_webhook_endpoint ADD COLUMN secret jsonb NULL`);
    await q.query(`ALTER TABLE stripe_webhook_inbox ADD COLUMN failed_at timestamptz NULL`);
  },

  async down(q) {
    await q.query(`ALTER TABLE stripe_webhook_inbox DROP COLUMN failed_at`);
    await q.query(`ALTER TABLE stripe_webhook_endpoint DROP COLUMN secret`);
  }
});
