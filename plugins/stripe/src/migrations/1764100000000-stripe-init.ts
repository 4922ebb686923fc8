import { defineMigration } from '@kassa/core';

/** The Stripe plugin's tables (hand-written, like core's; see entities/stripe-entities.ts). */
export const StripeInit1764100000000 = defineMigration({
  name: 'StripeInit1764100000000',
  async up(q) {
    await q.query(`
      CREATE TABLE stripe_account (
        account_id text PRIMARY KEY,
        scope text NOT NULL CHECK (scope IN ('global', 'organizer', 'event')),
        organizer_id uuid NULL,
        event_id uuid NULL,
        livemode boolean NOT NULL,
        webhook_endpoint_id text NULL,
        last_event_id text NULL,
        last_event_created bigint NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE stripe_webhook_inbox (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account text NOT NULL,
        event_id text NOT NULL,
        type text NOT NULL,
        object_id text NOT NULL,
        object_type text NOT NULL,
        intent_id text NULL,
        source text NOT NULL,
        payload jsonb NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        processed_at timestamptz NULL,
        attempts integer NOT NULL DEFAULT 0,
        last_error text NULL,
        outcome text NULL,
        CONSTRAINT stripe_webhook_inbox_account_event UNIQUE (account, event_id)
      )`);
    // The sweep job looks for rows that were stored but never processed.
    await q.query(`CREATE INDEX stripe_webhook_inbox_unprocessed ON stripe_webhook_inbox (received_at) WHERE processed_at IS NULL`);
    await q.query(`
      CREATE TABLE stripe_object_ref (
        object_id text PRIMARY KEY,
        kind text NOT NULL,
        account text NOT NULL,
        payment_id uuid NOT NULL REFERENCES order_payment (id) ON DELETE CASCADE,
        refund_id uuid NULL REFERENCES order_refund (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX stripe_object_ref_payment ON stripe_object_ref (payment_id)`);
    await q.query(`
      CREATE TABLE stripe_dispute (
        dispute_id text PRIMARY KEY,
        payment_id uuid NOT NULL REFERENCES order_payment (id) ON DELETE CASCADE,
        status text NOT NULL,
        reason text NOT NULL,
        amount bigint NOT NULL,
        currency char(3) NOT NULL,
        due_by timestamptz NULL,
        refund_id uuid NULL REFERENCES order_refund (id),
        funds_withdrawn boolean NOT NULL DEFAULT false,
        funds_reinstated boolean NOT NULL DEFAULT false,
        notified_status text NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX stripe_dispute_payment ON stripe_dispute (payment_id)`);
    await q.query(`
      CREATE TABLE stripe_payment_lock (
        payment_id uuid PRIMARY KEY,
        holder text NOT NULL,
        expires_at timestamptz NOT NULL
      )`);
  },

  async down(q) {
    for (const t of ['stripe_payment_lock', 'stripe_dispute', 'stripe_object_ref', 'stripe_webhook_inbox', 'stripe_account']) {
      await q.query(`DROP TABLE ${t}`);
    }
  }
});
