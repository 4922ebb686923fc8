import { defineMigration } from '@kassa/core';

/**
 * Stripe Connect in test and live mode: a Standard account connected with a live platform key may
 * also be reached in test mode; the test-mode publishable key Stripe gives for it (by redeeming the
 * connection's refresh token with the platform's test key, as pretix does) is kept with the
 * connection. `livemode` (already there) says in which mode the account was connected.
 */
export const StripeConnectTestAccess1769100000000 = defineMigration({
  name: 'StripeConnectTestAccess1769100000000',
  async up(q) {
    await q.query('ALTER TABLE stripe_connected_account ADD COLUMN test_publishable_key text NULL');
  },
  async down(q) {
    await q.query('ALTER TABLE stripe_connected_account DROP COLUMN test_publishable_key');
  },
});
