import { defineMigration } from '@kassa/core';

/**
 * Stripe Connect payouts: Kassa's copy of each payout of a connected account (kept current by the
 * `payout.*` Connect events and by the operator's own requests), and the operator's payout requests
 * before Stripe answered (the row id is the idempotency key, so a double submit makes one payout).
 * Amounts are Stripe's, converted to our minor units. `payout_status` is Stripe's payout status
 * (pending, in_transit, paid, failed, canceled), or `requested` while Stripe has not answered yet.
 */
export const StripeConnectPayouts1768300000000 = defineMigration({
  name: 'StripeConnectPayouts1768300000000',
  async up(q) {
    await q.query(`
      CREATE TABLE stripe_connect_payout (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organizer_id uuid NOT NULL,
        account_id text NOT NULL,
        payout_id text NULL UNIQUE,
        amount bigint NOT NULL,
        currency char(3) NOT NULL,
        payout_status text NOT NULL,
        automatic boolean NOT NULL DEFAULT true,
        arrival_date timestamptz NULL,
        failure_code text NULL,
        failure_message text NULL,
        stripe_created timestamptz NULL,
        requested_by_operator boolean NOT NULL DEFAULT false,
        last_error text NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX stripe_connect_payout_organizer ON stripe_connect_payout (organizer_id, created_at DESC)');
    await q.query('CREATE INDEX stripe_connect_payout_account ON stripe_connect_payout (account_id)');
  },
  async down(q) {
    await q.query('DROP TABLE stripe_connect_payout');
  },
});
