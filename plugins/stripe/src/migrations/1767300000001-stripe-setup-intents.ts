import { defineMigration } from '@kassa/core';

/**
 * The SetupIntents the plugin started (saving a card for a plan, "save this card", the card
 * refresh page): which order each is for and whether it completed, so the audit job can mark
 * the ones left unfinished for an hour abandoned (docs/payment-plans.md).
 */
export const StripeSetupIntents1767300000001 = defineMigration({
  name: 'StripeSetupIntents1767300000001',
  async up(q) {
    await q.query(`
      CREATE TABLE stripe_setup_intent (
        setup_intent_id text PRIMARY KEY,
        account_id text NOT NULL,
        order_id uuid NOT NULL,
        payment_id uuid NOT NULL,
        purpose text NOT NULL CHECK (purpose IN ('plan', 'save', 'refresh')),
        created_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz NULL,
        abandoned_at timestamptz NULL,
        stored_method_id uuid NULL
      );
      CREATE INDEX stripe_setup_intent_open ON stripe_setup_intent (created_at) WHERE completed_at IS NULL AND abandoned_at IS NULL;
    `);
  },
  async down(q) {
    await q.query('DROP TABLE stripe_setup_intent');
  },
});
