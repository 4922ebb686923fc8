import { KassaError, organizerSettings, type PluginHttpRequest, type PluginHttpResponse } from '@kassa/core';
import { accountFrom, accountSelect, type StripeAccount } from '../db/stripe-rows';
import { STRIPE_NAMESPACE, registerAccount, stripeSettingsFrom } from '../stripe-account-context';
import { STRIPE_ROUTE_PREFIX } from '../stripe-provider';
import type { StripeRuntime } from '../stripe-state';
import { walletDomains } from './domain-registration';
import { WALLETS, walletDomainsOf, type Wallet, type WalletDomain } from './wallet-domain-rows';
import { syncWalletDomains } from './wallet-domain-sync';

const WALLET_NAMES: Record<Wallet, string> = { apple_pay: 'Apple Pay', google_pay: 'Google Pay', link: 'Link' };

/** What the organizer can do about an inactive wallet (Stripe's own message is shown next to it). */
const ADVICE: Record<Wallet, string> = {
  apple_pay: 'Apple verifies the domain by fetching /.well-known/apple-developer-merchantid-domain-association from it: the domain must point at this Kassa, and your Kassa operator must configure that file (KASSA_APPLE_PAY_DOMAIN_ASSOCIATION_FILE). Then press "Check again".',
  google_pay: 'Turn Google Pay on in your Stripe Dashboard (Settings → Payment methods), then press "Check again".',
  link: 'Turn Link on in your Stripe Dashboard (Settings → Payment methods), then press "Check again".',
};

/**
 * The accounts whose domains the signed-in organizer sees: those registered for the organizer or
 * its events, and the instance's account when the organizer's keys come from the instance.
 */
async function organizerAccounts(req: PluginHttpRequest, rt: StripeRuntime): Promise<{ accounts: StripeAccount[]; keysFrom: string | null }> {
  const organizerId = req.organizerId as string;
  const display = await rt.settings.getForDisplay(organizerSettings(organizerId), STRIPE_NAMESPACE);
  const keysFrom = display.sources.secretKey ?? null;
  const rows = await rt.db.query(
    `${accountSelect} WHERE organizer_id = $1 OR ($2::boolean AND scope = 'global') ORDER BY created_at`, [organizerId, keysFrom === 'global'],
  );
  return { accounts: rows.map(accountFrom), keysFrom };
}

function domainView(d: WalletDomain) {
  return {
    domain: d.domain, pmdId: d.pmdId, error: d.error, checkedAt: d.checkedAt.toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
    wallets: WALLETS.map((w) => {
      const s = d.wallets[w];
      return { key: w, name: WALLET_NAMES[w], status: s?.status ?? 'unknown', error: s?.error ?? null, advice: s?.status === 'active' ? null : ADVICE[w] };
    }),
  };
}

/** GET /plugins/stripe/control/wallet-domains — each domain's status per wallet, for the signed-in organizer's accounts. */
export async function handleWalletDomainsPage(req: PluginHttpRequest, rt: StripeRuntime): Promise<PluginHttpResponse> {
  if (!req.organizerId) throw new KassaError('AUTH_REQUIRED');
  const { accounts, keysFrom } = await organizerAccounts(req, rt);
  const rows = await walletDomainsOf(rt.db, accounts.map((a) => a.accountId));
  const settings = stripeSettingsFrom(await rt.settings.resolve(organizerSettings(req.organizerId), STRIPE_NAMESPACE));
  return {
    status: 200,
    title: 'Wallet domains',
    view: {
      partial: 'stripe/wallet-domains',
      data: {
        keysConfigured: keysFrom !== null,
        walletsOn: settings.wallets,
        expected: walletDomains(rt.baseUrl, settings),
        accounts: accounts.map((a) => ({ accountId: a.accountId, scope: a.scope, domains: rows.filter((r) => r.accountId === a.accountId).map(domainView) })),
        canCheck: req.isAdmin === true,
        checkUrl: `${STRIPE_ROUTE_PREFIX}/control/wallet-domains/check`,
      },
    },
  };
}

/**
 * POST /plugins/stripe/control/wallet-domains/check — "Check again": registers the organizer's
 * account if its keys were never used yet, then registers and validates every domain at Stripe now.
 * Admins only, like every settings action (404 for others).
 */
export async function handleWalletDomainsCheck(req: PluginHttpRequest, rt: StripeRuntime): Promise<PluginHttpResponse> {
  if (!req.organizerId) throw new KassaError('AUTH_REQUIRED');
  if (req.isAdmin !== true) throw new KassaError('NOT_FOUND', { entity: 'Page' });
  const { accounts, keysFrom } = await organizerAccounts(req, rt);
  const ids = accounts.map((a) => a.accountId);
  if (keysFrom !== null) {
    // Keys saved but never used (no checkout, no webhook endpoint yet): the account is registered here.
    const target = keysFrom === 'global' ? { scope: 'global' as const } : organizerSettings(req.organizerId);
    const { account } = await registerAccount(rt, target);
    if (!ids.includes(account.accountId)) ids.push(account.accountId);
  }
  const checked = await syncWalletDomains(rt, { accountIds: ids, force: true });
  const type = String(req.headers['content-type'] ?? '');
  return type.startsWith('application/x-www-form-urlencoded')
    ? { redirect: `${STRIPE_ROUTE_PREFIX}/control/wallet-domains` }
    : { status: 200, body: { domains: checked.map(domainView) } };
}
