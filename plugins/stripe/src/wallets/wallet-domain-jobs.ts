import { defineJob, type PluginJob } from '@kassa/core';
import type { StripeRuntime, StripeState } from '../stripe-state';
import { syncWalletDomains } from './wallet-domain-sync';

export const SYNC_WALLET_DOMAINS_JOB = 'sync-wallet-domains';

/** Job id of one account's registration: a second enqueue while one waits is a no-op. */
export const walletDomainsJobId = (accountId: string): string => `wallet-domains-${accountId}`;

/**
 * sync-wallet-domains: every five minutes (the first run a few minutes after start) for every
 * known account, so accounts that existed before wallets get their domains too; enqueued with
 * `{ accountId }` when the pay page meets an account whose domains were never registered.
 */
export const syncWalletDomainsJob: PluginJob<StripeState> = defineJob({
  name: SYNC_WALLET_DOMAINS_JOB,
  repeat: { everyMs: 300_000 },
  attempts: 3,
  payload: (raw): { accountId: string | null } => ({ accountId: typeof raw.accountId === 'string' ? raw.accountId : null }),
  processor: async ({ accountId }, rt: StripeRuntime) => {
    await syncWalletDomains(rt, accountId ? { accountIds: [accountId] } : {});
  },
});
