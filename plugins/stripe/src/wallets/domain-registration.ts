import { randomUUID } from 'node:crypto';
import type { Clock, PluginDb } from '@kassa/core';
import Stripe from 'stripe';
import type { StripeSettings } from '../settings-schema';
import type { ChargeAccount } from './charge-account';
import { WALLETS, findWalletDomain, saveWalletDomain, type Wallet, type WalletDomain, type WalletStatus } from './wallet-domain-rows';

/**
 * Payment method domain registration (reference/stripe-spec.md §8.1, pretix.md §3.4): every
 * domain that shows the wallet is registered on the account that runs the charge. Stripe refuses a
 * second registration of one domain, so we list before we create, keep the pmd id per (account,
 * domain), and ask Stripe to validate again while Apple Pay is inactive (Apple's verification
 * fetches the well-known file, which may have been missing at the first try).
 */

/** The hostnames that show the wallet: BASE_URL's host and the operator's custom shop domains. */
export function walletDomains(baseUrl: string, settings: Pick<StripeSettings, 'walletDomains'>): string[] {
  const own = new URL(baseUrl).hostname.toLowerCase();
  return [...new Set([own, ...(settings.walletDomains ?? []).map((d) => d.toLowerCase())])];
}

/** Idempotency key of a domain's creation: our row is (account, domain). */
export const pmdCreateKey = (accountId: string, domain: string): string => `kassa-pmd-${accountId}-${domain}`;

type Pmd = Stripe.PaymentMethodDomain;

function statusOf(pmd: Pmd, wallet: Wallet): WalletStatus {
  const s = pmd[wallet] as { status: 'active' | 'inactive'; status_details?: { error_message?: string } } | undefined;
  if (!s) return { status: 'inactive', error: 'Stripe reported no status for this wallet.' };
  const message = s.status_details?.error_message;
  return s.status === 'active' ? { status: 'active' } : { status: 'inactive', ...(message ? { error: message } : {}) };
}

const statusesOf = (pmd: Pmd): Partial<Record<Wallet, WalletStatus>> => Object.fromEntries(WALLETS.map((w) => [w, statusOf(pmd, w)]));

function messageOf(err: unknown): string {
  return err instanceof Stripe.errors.StripeError ? err.message : err instanceof Error ? err.message : String(err);
}

const isMissing = (err: unknown): boolean => err instanceof Stripe.errors.StripeError && (err.statusCode === 404 || err.code === 'resource_missing');

/** The account's registration of a domain at Stripe: by the stored id, else by listing (never a duplicate). */
async function existing(charge: ChargeAccount, known: WalletDomain | null, domain: string): Promise<Pmd | null> {
  if (known?.pmdId) {
    try {
      return await charge.stripe.paymentMethodDomains.retrieve(known.pmdId, {}, charge.requestOptions);
    } catch (err) {
      // Deleted at Stripe (or another account's id): look it up by name below.
      if (!isMissing(err)) throw err;
    }
  }
  const listed = await charge.stripe.paymentMethodDomains.list({ domain_name: domain, limit: 1 }, charge.requestOptions);
  return listed.data[0] ?? null;
}

/**
 * Registers one domain on the account that runs the charge (or finds its registration), turns
 * it on if it was switched off, validates while Apple Pay is inactive, and stores the outcome.
 * Stripe's refusal is stored as the row's error (the domain page shows it), never thrown: one bad
 * domain must not stop the others. No transaction is open around the Stripe calls.
 */
export async function registerWalletDomain(rt: { db: PluginDb; clock: Clock }, charge: ChargeAccount, domain: string): Promise<WalletDomain> {
  const known = await findWalletDomain(rt.db, charge.accountId, domain);
  try {
    let pmd = await existing(charge, known, domain);
    if (!pmd) {
      pmd = await charge.stripe.paymentMethodDomains.create(
        { domain_name: domain, enabled: true }, { ...charge.requestOptions, idempotencyKey: pmdCreateKey(charge.accountId, domain) },
      );
    } else if (!pmd.enabled) {
      pmd = await charge.stripe.paymentMethodDomains.update(pmd.id, { enabled: true }, charge.requestOptions);
    }
    if (statusOf(pmd, 'apple_pay').status !== 'active') {
      // Validation re-runs Apple's check each time; the key only covers stripe-node's own retries of this call.
      pmd = await charge.stripe.paymentMethodDomains.validate(pmd.id, {}, { ...charge.requestOptions, idempotencyKey: `kassa-pmd-validate-${pmd.id}-${randomUUID()}` });
    }
    return await saveWalletDomain(rt.db, { accountId: charge.accountId, domain, pmdId: pmd.id, enabled: pmd.enabled, wallets: statusesOf(pmd), error: null }, rt.clock.now());
  } catch (err) {
    if (!(err instanceof Stripe.errors.StripeError)) throw err;
    return saveWalletDomain(rt.db, {
      accountId: charge.accountId, domain, pmdId: known?.pmdId ?? null, enabled: known?.enabled ?? false, wallets: known?.wallets ?? {}, error: messageOf(err),
    }, rt.clock.now());
  }
}

/** Registers every domain in turn (one account's registrations are few; Stripe rate-limits bursts). */
export async function registerWalletDomains(rt: { db: PluginDb; clock: Clock }, charge: ChargeAccount, domains: readonly string[]): Promise<WalletDomain[]> {
  const out: WalletDomain[] = [];
  for (const domain of domains) out.push(await registerWalletDomain(rt, charge, domain));
  return out;
}

/** Whether the periodic sync should ask Stripe again: never registered, refused, or Apple Pay still inactive after an hour. */
export function needsCheck(row: WalletDomain | null, now: Date): boolean {
  if (!row || row.error || !row.pmdId) return true;
  if (row.wallets.apple_pay?.status === 'active') return false;
  return now.getTime() - row.checkedAt.getTime() >= 3_600_000;
}
