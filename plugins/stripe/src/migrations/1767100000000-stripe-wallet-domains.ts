import { defineMigration } from '@kassa/core';

/**
 * The payment method domains Kassa registered at Stripe, one row per (account that runs the
 * charge, domain): the pmd id (so a domain is never registered twice) and the last status Stripe
 * reported per wallet, with Stripe's own error message, for the control panel's domain page.
 */
export const StripeWalletDomains1767100000000 = defineMigration({
  name: 'StripeWalletDomains1767100000000',
  async up(q) {
    await q.query(`CREATE TABLE stripe_wallet_domain (
      account_id text NOT NULL,
      domain text NOT NULL,
      pmd_id text NULL,
      enabled boolean NOT NULL DEFAULT true,
      wallets jsonb NOT NULL DEFAULT '{}'::jsonb,
      error text NULL,
      checked_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, domain)
    )`);
    await q.query(`CREATE UNIQUE INDEX stripe_wallet_domain_pmd ON stripe_wallet_domain (pmd_id) WHERE pmd_id IS NOT NULL`);
  },

  async down(q) {
    await q.query(`DROP TABLE stripe_wallet_domain`);
  },
});
