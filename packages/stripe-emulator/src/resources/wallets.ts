import { magicPaymentMethodNumber } from '../cards';
import type { Emulator } from '../emulator';
import { invalidRequest } from '../errors';
import { Params } from '../params';
import type { Ctx, Router } from '../router';
import type { AccountState } from '../store';
import type { PaymentMethod, PaymentMethodDomain, WalletType } from '../types';
import { createCardPaymentMethod } from './payment-methods';

/** Express Checkout payment types the test wallet offers, with their `availablePaymentMethods` keys. */
export const EXPRESS_TYPES = ['apple_pay', 'google_pay', 'link', 'paypal', 'amazon_pay'] as const;
export type ExpressType = (typeof EXPRESS_TYPES)[number];
const CAMEL: Record<ExpressType, string> = { apple_pay: 'applePay', google_pay: 'googlePay', link: 'link', paypal: 'paypal', amazon_pay: 'amazonPay' };
/** Wallets that hand over a card; the others are not modelled as PaymentMethods. */
const CARD_WALLETS: readonly WalletType[] = ['apple_pay', 'google_pay', 'link'];

/**
 * What the test wallet offers: which express payment types the browser "has", and the card it
 * hands over (a test card number or a `pm_card_*` / `tok_*` alias, so a wallet payment can
 * decline or need 3-D Secure). `requireDomain`: a wallet is offered only on a registered,
 * enabled payment method domain where it is `active`, as Stripe shows wallets (§8.1).
 */
export interface WalletConfig {
  available: ExpressType[];
  card: string;
  requireDomain: boolean;
  payer: { name: string; email: string };
}

export const defaultWalletConfig = (): WalletConfig => ({
  available: ['google_pay'],
  card: '4242424242424242',
  requireDomain: false,
  payer: { name: 'Test Wallet', email: 'wallet@example.com' },
});

/** The card number behind a wallet configuration value (number or alias). */
function walletCardNumber(card: string): string {
  const number = magicPaymentMethodNumber(card) ?? card.replace(/[\s-]/g, '');
  if (!/^\d{12,19}$/.test(number)) throw invalidRequest(`Unknown wallet card: ${card} (use a test card number or a pm_card_* alias).`, { param: 'card' });
  return number;
}

function configFor(emu: Emulator, account: AccountState | undefined): WalletConfig {
  return (account && emu.walletConfigs.get(account.id)) ?? emu.walletConfigs.get('') ?? emu.defaultWalletConfig;
}

/** A wallet offered on `host` when domains are required: registered, enabled, and that wallet active there. */
function domainAllows(account: AccountState, host: string, type: ExpressType): boolean {
  const pmd = [...account.coll<PaymentMethodDomain>('payment_method_domain').values()].find((d) => d.domain_name === host.toLowerCase());
  return !!pmd && pmd.enabled && pmd[type].status === 'active';
}

/** Creates the card PaymentMethod a wallet hands over: `type: 'card'` with `card.wallet` set. */
export function createWalletPaymentMethod(ctx: Pick<Ctx, 'emu' | 'account'>, wallet: WalletType, card: string, billing?: Record<string, unknown>): PaymentMethod {
  const pm = createCardPaymentMethod(ctx, { number: walletCardNumber(card) }, billing);
  if (pm.card) pm.card.wallet = { type: wallet, dynamic_last4: pm.card.last4, [wallet]: {} };
  return pm;
}

export function registerWallets(r: Router): void {
  // The browser double asks which wallets to show (publishable key; the Stripe-Account header picks the account).
  r.add(
    'GET',
    '/_emulator/wallet',
    (ctx) => {
      const p = new Params(ctx.params, ['host']);
      const cfg = configFor(ctx.emu, ctx.account);
      const host = p.str('host');
      const available: Record<string, boolean> = {};
      for (const t of EXPRESS_TYPES) available[CAMEL[t]] = cfg.available.includes(t) && (!cfg.requireDomain || (!!host && domainAllows(ctx.account, host, t)));
      return { available_payment_methods: available, payer: cfg.payer };
    },
    'publishable',
  );
  // The buyer approved the sheet: the wallet's card becomes a PaymentMethod on the calling account.
  r.add(
    'POST',
    '/_emulator/wallet/payment_method',
    (ctx) => {
      const p = new Params(ctx.params, ['wallet', 'billing_details']);
      const wallet = p.oneOf('wallet', CARD_WALLETS, true) as WalletType;
      const cfg = configFor(ctx.emu, ctx.account);
      if (!cfg.available.includes(wallet)) throw invalidRequest(`The test wallet does not offer ${wallet} (configure it with POST /_emulator/wallet_config).`, { param: 'wallet' });
      return createWalletPaymentMethod(ctx, wallet, cfg.card, p.loose('billing_details') ?? cfg.payer);
    },
    'publishable',
  );
  // Tests choose what the wallet offers, globally or for one account (`key`: its sk_test_/pk_test_ key, or `account`).
  r.add(
    'POST',
    '/_emulator/wallet_config',
    (ctx) => {
      const p = new Params(ctx.params, ['key', 'account', 'available', 'card', 'require_domain', 'payer_name', 'payer_email', 'reset']);
      const key = p.str('key');
      const accountId = p.str('account') ?? (key ? ctx.emu.platformForKey(key.replace(/^pk_test_/, 'sk_test_')).id : '');
      const current = ctx.emu.walletConfigs.get(accountId) ?? { ...ctx.emu.defaultWalletConfig };
      if (p.bool('reset')) {
        ctx.emu.walletConfigs.delete(accountId);
        return configFor(ctx.emu, ctx.emu.account(accountId));
      }
      const next: WalletConfig = { ...current, payer: { ...current.payer } };
      if (p.has('available')) {
        const list = (p.strArray('available') ?? []).filter((x) => x !== 'none');
        for (const t of list) if (!(EXPRESS_TYPES as readonly string[]).includes(t)) throw invalidRequest(`Unknown express payment type: ${t} (one of ${EXPRESS_TYPES.join(', ')}).`, { param: 'available' });
        next.available = list as ExpressType[];
      }
      if (p.has('card')) {
        walletCardNumber(p.reqStr('card'));
        next.card = p.reqStr('card');
      }
      if (p.has('require_domain')) next.requireDomain = p.bool('require_domain') ?? false;
      if (p.has('payer_name')) next.payer.name = p.reqStr('payer_name');
      if (p.has('payer_email')) next.payer.email = p.reqStr('payer_email');
      ctx.emu.walletConfigs.set(accountId, next);
      return next;
    },
    'none',
  );
}
