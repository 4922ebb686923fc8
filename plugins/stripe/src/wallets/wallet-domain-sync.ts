import { KassaError } from '@kassa/core';
import { accountFrom, accountSelect, type StripeAccount } from '../db/stripe-rows';
import { accountContext, type AccountRuntime } from '../stripe-account-context';
import type { StripeRuntime } from '../stripe-state';
import { chargeModelFor } from '../connect/connect-settings';
import { platformContext } from '../connect/connected-accounts';
import { chargeAccount, type ChargeAccount } from './charge-account';
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
  out.push(...await syncConnectedAccounts(rt, opts.accountIds ?? null, opts.force === true));
  return out;
}

/**
 * Connect: a direct charge runs on the connected account, so the wallet's domains must be
 * registered there (through the platform's key with the Stripe-Account header, reference/stripe-spec.md
 * §9); destination and separate charges run on the platform and need nothing more.
 */
async function syncConnectedAccounts(rt: WalletSyncRuntime, accountIds: readonly string[] | null, force: boolean): Promise<WalletDomain[]> {
  const connections: { account_id: string; organizer_id: string }[] = accountIds
    ? await rt.db.query('SELECT DISTINCT account_id, organizer_id FROM stripe_connected_account WHERE account_id = ANY($1::text[]) ORDER BY account_id', [[...accountIds]])
    : await rt.db.query('SELECT DISTINCT account_id, organizer_id FROM stripe_connected_account ORDER BY account_id');
  if (connections.length === 0) return [];
  let platform;
  try {
    platform = await platformContext(rt);
  } catch (err) {
    if (!(err instanceof KassaError)) throw err;
    rt.log.warn('stripe: wallet domains of connected accounts not registered, the platform is not configured', { error: err.message });
    return [];
  }
  const out: WalletDomain[] = [];
  const done = new Set<string>();
  for (const c of connections) {
    if (done.has(c.account_id) || chargeModelFor(platform.settings, c.organizer_id) !== 'direct') continue;
    done.add(c.account_id);
    const charge: ChargeAccount = { accountId: c.account_id, stripe: platform.stripe, requestOptions: { stripeAccount: c.account_id }, connected: true };
    for (const domain of walletDomains(rt.baseUrl, platform.settings)) {
      const known = await findWalletDomain(rt.db, charge.accountId, domain);
      out.push(force || needsCheck(known, rt.clock.now()) ? await registerWalletDomain(rt, charge, domain) : (known as WalletDomain));
    }
  }
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
