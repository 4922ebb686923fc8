import type { Emulator } from './emulator';
import type { AccountState } from './store';
import type { BalanceTransaction } from './types';

/** Test-mode card pricing (2.9% + 30 minor units), integer arithmetic only. */
export function cardFee(amount: number): number {
  return Math.floor((amount * 29 + 500) / 1000) + 30;
}

/** Books a balance transaction; test mode funds are available at once (as with bypassPending). */
export function bookTransaction(
  emu: Emulator,
  account: AccountState,
  t: { amount: number; currency: string; type: string; source: string | null; fee?: number; description?: string; reporting_category?: string },
): BalanceTransaction {
  const fee = t.fee ?? 0;
  const txn: BalanceTransaction = {
    id: emu.ids.id('txn_'),
    object: 'balance_transaction',
    amount: t.amount,
    currency: t.currency,
    fee,
    net: t.amount - fee,
    type: t.type,
    source: t.source,
    status: 'available',
    available_on: emu.nowSeconds(),
    created: emu.nowSeconds(),
    livemode: false,
    description: t.description ?? null,
    reporting_category: t.reporting_category ?? t.type,
  };
  account.put('balance_transaction', txn);
  account.balance(t.currency).available += txn.net;
  return txn;
}
