import type { Money } from '@kassa/core';
import { toStripeAmount } from '../amount';
import type { StripeSettings } from '../settings-schema';
import type { StripeRuntime } from '../stripe-state';
import { walletDomains } from './domain-registration';
import { anyWalletActive, findWalletDomain } from './wallet-domain-rows';
import { SYNC_WALLET_DOMAINS_JOB, walletDomainsJobId } from './wallet-domain-jobs';

/**
 * What the pay page's express wallet button needs: the amount in Stripe's exponent for the
 * currency (the browser shows it in the sheet; the server's PaymentIntent must carry the same),
 * and the name shown as the merchant. Null: no wallet on this page.
 */
export interface ExpressCheckoutView {
  readonly amount: number;
  readonly currency: string;
  readonly businessName: string;
}

/** The host the buyer sees, without port; a header that is no hostname counts as absent. */
function hostOf(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  const m = value ? /^([a-z0-9.-]+)(?::\d+)?$/i.exec(value.trim()) : null;
  return m ? (m[1] as string).toLowerCase() : null;
}

/**
 * The express wallet is offered when the provider's wallet option is on (the default, switchable
 * per event) and the page's host is one of our wallet domains, registered on the account that
 * runs the charge with at least one wallet active there; which wallets show is then up to the
 * Express Checkout Element (the browser and the account). A domain never registered gets its
 * registration enqueued (once per account), and the page shows the card form alone meanwhile.
 */
export async function expressCheckoutView(
  rt: Pick<StripeRuntime, 'db' | 'baseUrl' | 'enqueue'>,
  input: { hostHeader: string | string[] | undefined; accountId: string; settings: StripeSettings; money: Money; businessName: string },
): Promise<ExpressCheckoutView | null> {
  if (!input.settings.wallets) return null;
  const domains = walletDomains(rt.baseUrl, input.settings);
  const host = hostOf(input.hostHeader) ?? (domains[0] as string);
  if (!domains.includes(host)) return null;
  const row = await findWalletDomain(rt.db, input.accountId, host);
  if (!row) {
    await rt.enqueue(SYNC_WALLET_DOMAINS_JOB, { accountId: input.accountId }, { jobId: walletDomainsJobId(input.accountId) });
    return null;
  }
  if (!anyWalletActive(row)) return null;
  const { amount, currency } = toStripeAmount({ amount: input.money.amount, currency: input.money.currency.trim() });
  return { amount, currency, businessName: input.businessName };
}
