import type { Emulator } from '../emulator';
import { invalidRequest, resourceMissing } from '../errors';
import { LIST_PARAMS, paginate } from '../lists';
import { Params } from '../params';
import type { Router } from '../router';
import type { AccountState } from '../store';
import { getConnected } from './accounts';
import { clearRequirements, refreshAccount } from './requirements';

/** A connected account's bank account (`ba_…`), where its payouts go. */
export interface BankAccount {
  id: string;
  object: 'bank_account';
  created: number;
  account: string;
  account_holder_name: string | null;
  bank_name: string;
  country: string;
  currency: string;
  default_for_currency: boolean;
  last4: string;
  routing_number: string | null;
  status: 'new' | 'verified' | 'errored';
  metadata: Record<string, string>;
}

/**
 * Stripe's test bank account numbers whose payouts fail (Stripe's payout testing docs), with the
 * failure code and message the payout gets. Any other number pays out.
 */
export const PAYOUT_FAILURES: Record<string, { code: string; message: string }> = {
  '000111111116': { code: 'no_account', message: 'The bank account details on file are probably incorrect. No bank account could be located with those details.' },
  '000111111113': { code: 'account_closed', message: 'The bank account has been closed.' },
  '000222222227': { code: 'insufficient_funds', message: 'Your Stripe account has insufficient funds to cover the payout.' },
  '000333333335': { code: 'debit_not_authorized', message: 'Debit transactions are not approved on the bank account. Stripe requires bank accounts to be set up for both credit and debit payouts.' },
  '000444444440': { code: 'invalid_currency', message: 'The bank was unable to process this payout because of its currency.' },
};

export const PAYOUT_FAILURE_MESSAGES: Record<string, string> = {
  ...Object.fromEntries(Object.values(PAYOUT_FAILURES).map((f) => [f.code, f.message])),
  could_not_process: 'The bank could not process this payout.',
  bank_account_restricted: 'The bank account has restrictions on either the type or number of payouts allowed.',
  invalid_account_number: 'The routing number seems correct, but the account number is invalid.',
};

/** Adds a bank account from `external_account[...]` params (or a token); it becomes the default for its currency. */
export function addExternalAccount(emu: Emulator, state: AccountState, bank: Record<string, unknown>): BankAccount {
  const number = String(bank.account_number ?? bank.iban ?? '000123456789').replace(/\s/g, '');
  const currency = String(bank.currency ?? state.account.default_currency).toLowerCase();
  for (const other of state.coll<BankAccount>('bank_account').values()) if (other.currency === currency) other.default_for_currency = false;
  const ba: BankAccount = {
    id: emu.ids.id('ba_'),
    object: 'bank_account',
    created: emu.nowSeconds(),
    account: state.id,
    account_holder_name: (bank.account_holder_name as string | undefined) ?? null,
    bank_name: 'STRIPE TEST BANK',
    country: String(bank.country ?? state.account.country).toUpperCase(),
    currency,
    default_for_currency: true,
    last4: number.slice(-4),
    routing_number: (bank.routing_number as string | undefined) ?? null,
    status: 'new',
    metadata: {},
  };
  state.put('bank_account', ba);
  state.bankNumbers.set(ba.id, number);
  syncList(state);
  return ba;
}

/** `account.external_accounts` mirrors the collection. */
function syncList(state: AccountState): void {
  const data = [...state.coll<BankAccount>('bank_account').values()];
  state.account.external_accounts = { object: 'list', data, has_more: false, url: `/v1/accounts/${state.id}/external_accounts` };
}

/** The account's default bank account for a currency (where a payout goes). */
export function defaultBankAccount(state: AccountState, currency: string): BankAccount | undefined {
  const all = [...state.coll<BankAccount>('bank_account').values()];
  return all.find((b) => b.currency === currency && b.default_for_currency) ?? all.find((b) => b.default_for_currency);
}

export function registerExternalAccounts(r: Router): void {
  const get = (state: AccountState, id: string): BankAccount => {
    const ba = state.get<BankAccount>('bank_account', id);
    if (!ba) throw resourceMissing('external_account', id, 'id');
    return ba;
  };
  r.add('POST', '/v1/accounts/:id/external_accounts', (ctx, [id]) => {
    const p = new Params(ctx.params, ['external_account', 'default_for_currency', 'metadata']);
    const state = getConnected(ctx, id as string);
    const raw = p.raw.external_account;
    if (raw === undefined || raw === '') throw invalidRequest('Missing required param: external_account.', { code: 'parameter_missing', param: 'external_account' });
    const ba = addExternalAccount(ctx.emu, state, typeof raw === 'string' ? { account_number: '000123456789' } : (p.loose('external_account') ?? {}));
    ba.metadata = p.metadata();
    ctx.emu.emit(state, 'account.external_account.created', ba);
    // A bank account provides the `external_account` requirement (Stripe clears it at once).
    const previous = { requirements: structuredClone(state.account.requirements) };
    clearRequirements(state.account.requirements, (req) => req === 'external_account');
    refreshAccount(ctx.emu, state, previous);
    return ba;
  });
  r.add('POST', '/v1/accounts/:id/external_accounts/:ba', (ctx, [id, baId]) => {
    const p = new Params(ctx.params, ['default_for_currency', 'account_holder_name', 'metadata']);
    const state = getConnected(ctx, id as string);
    const ba = get(state, baId as string);
    if (p.bool('default_for_currency') === true) {
      for (const other of state.coll<BankAccount>('bank_account').values()) if (other.currency === ba.currency) other.default_for_currency = false;
      ba.default_for_currency = true;
    }
    if (p.has('account_holder_name')) ba.account_holder_name = p.str('account_holder_name') ?? null;
    if (p.has('metadata')) ba.metadata = p.metadata(ba.metadata);
    syncList(state);
    ctx.emu.emit(state, 'account.external_account.updated', ba);
    return ba;
  });
  r.add('GET', '/v1/accounts/:id/external_accounts', (ctx, [id]) => {
    const p = new Params(ctx.params, [...LIST_PARAMS, 'object']);
    const state = getConnected(ctx, id as string);
    return paginate([...state.coll<BankAccount>('bank_account').values()], p, `/v1/accounts/${id}/external_accounts`);
  });
  r.add('GET', '/v1/accounts/:id/external_accounts/:ba', (ctx, [id, ba]) => {
    new Params(ctx.params, []);
    return get(getConnected(ctx, id as string), ba as string);
  });
  r.add('DELETE', '/v1/accounts/:id/external_accounts/:ba', (ctx, [id, baId]) => {
    new Params(ctx.params, []);
    const state = getConnected(ctx, id as string);
    const ba = get(state, baId as string);
    // Stripe keeps a default bank account per currency as long as the account pays out in it.
    if (ba.default_for_currency) throw invalidRequest('You cannot delete the default external account for your default currency. Please make another external account the default using the `default_for_currency` param, and then delete this one.', { param: 'id' });
    state.coll('bank_account').delete(ba.id);
    syncList(state);
    ctx.emu.emit(state, 'account.external_account.deleted', ba);
    return { id: ba.id, object: 'bank_account', deleted: true };
  });
}
