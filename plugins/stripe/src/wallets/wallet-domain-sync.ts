import { KassaError } from '@kassa/core';
import { accountFrom, accountSelect, type StripeAccount } from '../db/stripe-rows';
import { accountContext, type AccountRuntime } from '../stripe-account-context';
import type { StripeRuntime } from '../stripe-state';
import { chargeAccount } from './charge-account';
import { needsCheck, registerWalletDomain, walletDomains } from './domain-registration';
import { findWalletDomain, type WalletDomain } from './wallet-domain-rows';

/** What the sync needs of the runtime. */
export type WalletSyncRuntime = AccountRuntime & Pick<StripeRuntime, 'clock' | 'baseUrl' | 'log'>;

/**
 * Registers the wallet domains of the given accounts (default: every account Kassa knows, the
 * migration pretix needed for accounts that existed before wallets), asking Stripe only for
 * domains never registered, refused, or with Apple Pay still inactive after an hour, unless
 * `force` (the control panel's "check again"). An account whose settings are broken is skipped
 * with a warning; the others go on.
 */
export async function syncWalletDomains(rt: WalletSyncRuntime, opts: { accountIds?: readonly string[]; force?: boolean } = {}): Promise<WalletDomain[]> {
  const rows = opts.accountIds
    ? await rt.db.query(`${accountSelect} WHERE account_id = ANY($1::text[]) ORDER BY created_at`, [[...opts.accountIds]])
    : await rt.db.query(`${accountSelect} ORDER BY created_at`);
  const out: WalletDomain[] = [];
  for (const account of rows.map(accountFrom)) out.push(...await syncAccount(rt, account, opts.force === true));
  return out;
}

async function syncAccount(rt: WalletSyncRuntime, account: StripeAccount, force: boolean): Promise<WalletDomain[]> {
  let ctx;
  try {
    ctx = await accountContext(rt, account.accountId);
  } catch (err) {
    if (!(err instanceof KassaError)) throw err;
    rt.log.warn('stripe: wallet domains not registered, the account cannot be used', { account: account.accountId, error: err.message });
    return [];
  }
  // The platform account runs the charges today; Connect passes the connected account here for direct charges.
  const charge = chargeAccount(ctx);
  const out: WalletDomain[] = [];
  for (const domain of walletDomains(rt.baseUrl, ctx.settings)) {
    const known = await findWalletDomain(rt.db, charge.accountId, domain);
    out.push(force || needsCheck(known, rt.clock.now()) ? await registerWalletDomain(rt, charge, domain) : (known as WalletDomain));
  }
  return out;
}
