import type Stripe from 'stripe';
import type { AccountContext } from '../stripe-account-context';

/**
 * The Stripe account that runs a charge, and so the one whose payment method domains decide
 * whether a wallet shows (reference/stripe-spec.md §8.1, §9): the platform account today; a
 * connected account for direct charges once Connect lands (destination charges stay on the
 * platform). Every call for that account goes through the platform's client with these request
 * options, so the Stripe-Account header is set exactly when a connected account is meant.
 */
export interface ChargeAccount {
  /** acct_… of the account the domain is registered on (the key of stripe_wallet_domain). */
  readonly accountId: string;
  /** The platform's client (its secret key). */
  readonly stripe: Stripe;
  /** `{ stripeAccount }` for a connected account, `{}` for the platform itself. */
  readonly requestOptions: Stripe.RequestOptions;
  readonly connected: boolean;
}

/**
 * The account that runs the charge for a platform account context; pass the connected account id
 * for direct charges (Connect), leave it out for the platform's own and destination charges.
 */
export function chargeAccount(platform: Pick<AccountContext, 'account' | 'stripe'>, connectedAccountId?: string | null): ChargeAccount {
  if (connectedAccountId && connectedAccountId !== platform.account.accountId) {
    return { accountId: connectedAccountId, stripe: platform.stripe, requestOptions: { stripeAccount: connectedAccountId }, connected: true };
  }
  return { accountId: platform.account.accountId, stripe: platform.stripe, requestOptions: {}, connected: false };
}
