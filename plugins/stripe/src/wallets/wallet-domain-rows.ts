/*
 * The plugin's stripe_wallet_domain table (migrations/1767100000000): one row per (account that
 * runs the charge, domain), read and written through the port's db handle.
 */
import type { PluginDb } from '@kassa/core';

/** The wallets Kassa offers through the Express Checkout Element (card wallets; §8.3). */
export const WALLETS = ['apple_pay', 'google_pay', 'link'] as const;
export type Wallet = (typeof WALLETS)[number];

/** One wallet's status on a domain as Stripe last reported it, with Stripe's message when inactive. */
export interface WalletStatus {
  readonly status: 'active' | 'inactive';
  readonly error?: string;
}

export interface WalletDomain {
  readonly accountId: string;
  readonly domain: string;
  /** pmd_…, or null when Stripe refused to register the domain (then `error` says why). */
  readonly pmdId: string | null;
  readonly enabled: boolean;
  readonly wallets: Partial<Record<Wallet, WalletStatus>>;
  /** Why registering failed (Stripe's message), or null. */
  readonly error: string | null;
  readonly checkedAt: Date;
}

const select = 'SELECT account_id, domain, pmd_id, enabled, wallets, error, checked_at FROM stripe_wallet_domain';

function rowFrom(r: Record<string, unknown>): WalletDomain {
  return {
    accountId: String(r.account_id), domain: String(r.domain), pmdId: (r.pmd_id as string | null) ?? null, enabled: r.enabled === true,
    wallets: (r.wallets ?? {}) as WalletDomain['wallets'], error: (r.error as string | null) ?? null, checkedAt: new Date(r.checked_at as string),
  };
}

export async function findWalletDomain(db: PluginDb, accountId: string, domain: string): Promise<WalletDomain | null> {
  const [row] = await db.query(`${select} WHERE account_id = $1 AND domain = $2`, [accountId, domain]);
  return row ? rowFrom(row) : null;
}

export async function walletDomainsOf(db: PluginDb, accountIds: readonly string[]): Promise<WalletDomain[]> {
  if (accountIds.length === 0) return [];
  return (await db.query(`${select} WHERE account_id = ANY($1::text[]) ORDER BY account_id, domain`, [[...accountIds]])).map(rowFrom);
}

/** Stores what Stripe reported; one statement, after the Stripe calls (never around them). */
export async function saveWalletDomain(db: PluginDb, d: Omit<WalletDomain, 'checkedAt'>, at: Date): Promise<WalletDomain> {
  const [row] = await db.query(
    `INSERT INTO stripe_wallet_domain (account_id, domain, pmd_id, enabled, wallets, error, checked_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)
     ON CONFLICT (account_id, domain) DO UPDATE SET pmd_id = COALESCE(EXCLUDED.pmd_id, stripe_wallet_domain.pmd_id), enabled = EXCLUDED.enabled,
       wallets = EXCLUDED.wallets, error = EXCLUDED.error, checked_at = EXCLUDED.checked_at
     RETURNING account_id, domain, pmd_id, enabled, wallets, error, checked_at`,
    [d.accountId, d.domain, d.pmdId, d.enabled, JSON.stringify(d.wallets), d.error, at],
  );
  return rowFrom(row as Record<string, unknown>);
}

/** Whether any wallet is active on a domain for this account (the pay page shows the express button only then). */
export function anyWalletActive(d: WalletDomain | null): boolean {
  return !!d && d.enabled && !!d.pmdId && WALLETS.some((w) => d.wallets[w]?.status === 'active');
}
