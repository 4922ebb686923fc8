import { defineMigration } from '@kassa/core';

/**
 * Stripe Connect: the account connected for an organizer (or for one of its events), with Kassa's
 * copy of what Stripe says about it (type, charges and payouts enabled, requirements), and the
 * platform's transfers of separate charges (one per payment, keyed by the payment row).
 */
export const StripeConnectedAccounts1767200000000 = defineMigration({
  name: 'StripeConnectedAccounts1767200000000',
  async up(q) {
    await q.query(`
      CREATE TABLE stripe_connected_account (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organizer_id uuid NOT NULL,
        event_id uuid NULL,
        account_id text NOT NULL,
        account_type text NOT NULL,
        country text NULL,
        livemode boolean NOT NULL,
        charges_enabled boolean NOT NULL DEFAULT false,
        payouts_enabled boolean NOT NULL DEFAULT false,
        details_submitted boolean NOT NULL DEFAULT false,
        requirements jsonb NOT NULL DEFAULT '{}'::jsonb,
        connected_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        disconnected_at timestamptz NULL
      )`);
    // One live connection per level; disconnected rows stay for the record.
    await q.query(`CREATE UNIQUE INDEX stripe_connected_account_level ON stripe_connected_account (organizer_id, (COALESCE(event_id::text, ''))) WHERE disconnected_at IS NULL`);
    await q.query(`CREATE INDEX stripe_connected_account_account ON stripe_connected_account (account_id)`);
    await q.query(`
      CREATE TABLE stripe_connect_transfer (
        payment_id uuid PRIMARY KEY REFERENCES order_payment (id) ON DELETE CASCADE,
        account_id text NOT NULL,
        charge_id text NOT NULL,
        amount bigint NOT NULL,
        currency char(3) NOT NULL,
        transfer_id text NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        transferred_at timestamptz NULL
      )`);
    // OAuth `state` values in flight: single use, short-lived, bound to the organizer and to the
    // browser that started (its cookie holds the same random value; only its hash is stored).
    await q.query(`
      CREATE TABLE stripe_connect_state (
        state_hash text PRIMARY KEY,
        organizer_id uuid NOT NULL,
        event_id uuid NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz NULL
      )`);
    // The platform's Connect webhook endpoints Kassa created (connect=true), each with its own
    // signing secret (sealed with the instance's key): they verify Connect events and nothing else.
    await q.query(`
      CREATE TABLE stripe_connect_endpoint (
        endpoint_id text PRIMARY KEY,
        secret jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  },

  async down(q) {
    await q.query('DROP TABLE stripe_connect_endpoint');
    await q.query('DROP TABLE stripe_connect_state');
    await q.query('DROP TABLE stripe_connect_transfer');
    await q.query('DROP TABLE stripe_connected_account');
  },
});
