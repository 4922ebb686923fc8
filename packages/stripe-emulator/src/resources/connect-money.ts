import type { Emulator } from '../emulator';
import { parseCurrency } from '../currencies';
import { invalidRequest, resourceMissing } from '../errors';
import { LIST_PARAMS, paginate } from '../lists';
import { bookTransaction } from '../money';
import { Params } from '../params';
import type { Router } from '../router';
import type { AccountState } from '../store';
import type { ApplicationFee, BalanceTransaction, Charge, Payout, Transfer } from '../types';
import { getConnected } from './accounts';
import { defaultBankAccount, PAYOUT_FAILURE_MESSAGES, PAYOUT_FAILURES, type BankAccount } from './external-accounts';
import { createTransfer } from './charges';
import { refundApplicationFee, reverseTransfer } from './refunds';

function insufficient(): never {
  throw invalidRequest('You have insufficient available funds in your Stripe account. Try adding funds directly to your available balance by creating Charges using the 4000000000000077 test card.', { code: 'balance_insufficient', param: 'amount' });
}

export function settlePayout(emu: Emulator, account: AccountState, po: Payout, outcome: 'paid' | 'failed', failureCode = 'account_closed'): Payout {
  if (po.status !== 'pending' && po.status !== 'in_transit') throw invalidRequest(`Payout ${po.id} is already ${po.status}.`, { param: 'payout' });
  const previous = { status: po.status };
  po.status = outcome;
  if (outcome === 'failed') {
    po.failure_code = failureCode;
    po.failure_message = PAYOUT_FAILURE_MESSAGES[failureCode] ?? 'The bank could not process this payout.';
    bookTransaction(emu, account, { amount: po.amount, currency: po.currency, type: 'payout_failure', source: po.id });
  }
  emu.emit(account, 'payout.updated', po, previous);
  emu.emit(account, outcome === 'paid' ? 'payout.paid' : 'payout.failed', po);
  return po;
}

/**
 * Creates a payout (§9.6): the amount leaves the available balance at once; later it is paid, or
 * fails when the destination is one of Stripe's failing test bank accounts (money back,
 * payout.failed). An automatic payout sweeps every balance transaction of its currency not yet
 * paid out, so `GET /v1/balance_transactions?payout=` lists what it contains (reconciliation).
 */
export function createPayout(
  emu: Emulator,
  account: AccountState,
  o: { amount: number; currency: string; automatic: boolean; description?: string | null; destination?: string | null; method?: string; metadata?: Record<string, string>; statement_descriptor?: string | null },
): Payout {
  const id = emu.ids.id('po_');
  const bank = o.destination ? account.get<BankAccount>('bank_account', o.destination) : defaultBankAccount(account, o.currency);
  if (o.destination && !bank) throw resourceMissing('bank_account', o.destination, 'destination');
  const po: Payout = {
    id,
    object: 'payout',
    created: emu.nowSeconds(),
    livemode: false,
    amount: o.amount,
    currency: o.currency,
    arrival_date: emu.nowSeconds() + 2 * 86400,
    status: 'pending',
    method: o.method ?? 'standard',
    type: 'bank_account',
    description: o.description ?? null,
    destination: bank?.id ?? null,
    failure_code: null,
    failure_message: null,
    metadata: o.metadata ?? {},
    statement_descriptor: o.statement_descriptor ?? null,
    automatic: o.automatic,
    balance_transaction: null,
  };
  const swept = o.automatic
    ? [...account.coll<BalanceTransaction>('balance_transaction').values()].filter((t) => t.currency === o.currency && !account.paidOutTransactions.has(t.id)).map((t) => t.id)
    : [];
  const txn = bookTransaction(emu, account, { amount: -o.amount, currency: o.currency, type: 'payout', source: id });
  po.balance_transaction = txn.id;
  if (o.automatic) {
    for (const t of [...swept, txn.id]) account.paidOutTransactions.add(t);
    account.payoutTransactions.set(id, [...swept, txn.id]);
  }
  account.put('payout', po);
  emu.own(po.id, account);
  emu.emit(account, 'payout.created', po);
  const failure = bank ? PAYOUT_FAILURES[account.bankNumbers.get(bank.id) ?? ''] : undefined;
  emu.scheduler.later(emu.options.delays.payoutPaidMs, `payout ${id} ${failure ? 'fail' : 'paid'}`, () => {
    if (po.status === 'pending') settlePayout(emu, account, po, failure ? 'failed' : 'paid', failure?.code);
  });
  return po;
}

/** An automatic payout of the whole available balance in one currency (what Stripe's schedule does). */
export function automaticPayout(emu: Emulator, account: AccountState, currency?: string): Payout {
  const schedule = (account.account.settings.payouts as { schedule?: { interval?: string } } | undefined)?.schedule;
  if (schedule?.interval === 'manual') throw invalidRequest(`Account ${account.id} has a manual payout schedule: it is paid out only by POST /v1/payouts.`, { param: 'account' });
  const cur = currency ?? [...account.balances.entries()].find(([, b]) => b.available > 0)?.[0] ?? account.account.default_currency;
  const available = account.balance(cur).available;
  if (available <= 0) throw invalidRequest(`Nothing to pay out: the available ${cur.toUpperCase()} balance is ${available}.`, { param: 'currency' });
  return createPayout(emu, account, { amount: available, currency: cur, automatic: true });
}

export function registerConnectMoney(r: Router): void {
  r.add('POST', '/v1/transfers', (ctx) => {
    const p = new Params(ctx.params, ['amount', 'currency', 'destination', 'description', 'metadata', 'source_transaction', 'source_type', 'transfer_group']);
    const amount = p.reqInt('amount');
    if (amount < 1) throw invalidRequest('This value must be greater than or equal to 1.', { param: 'amount' });
    const currency = parseCurrency(p.reqStr('currency'));
    const dest = getConnected(ctx, p.reqStr('destination'));
    if (dest.account.capabilities.transfers !== 'active') {
      throw invalidRequest(`Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments`, { code: 'insufficient_capabilities_for_transfer', param: 'destination' });
    }
    const source = p.str('source_transaction');
    if (source) {
      const ch = ctx.account.get<Charge>('charge', source);
      if (!ch) throw resourceMissing('charge', source, 'source_transaction');
      if (ch.currency !== currency) throw invalidRequest(`The currency of source_transaction ${ch.id} (${ch.currency}) must match the transfer's currency (${currency}).`, { param: 'currency' });
      // What earlier transfers from this charge already took is no longer available to transfer.
      let transferred = 0;
      for (const t of ctx.account.coll<Transfer>('transfer').values()) if (t.source_transaction === ch.id) transferred += t.amount - t.amount_reversed;
      if (amount > ch.amount_captured - ch.amount_refunded - transferred) throw invalidRequest('Transfer amount exceeds the available amount of the source transaction.', { param: 'amount' });
    } else if (ctx.account.balance(currency).available < amount) insufficient();
    return createTransfer(ctx.emu, ctx.account, dest, { amount, currency, source_transaction: source, transfer_group: p.str('transfer_group'), description: p.str('description'), metadata: p.metadata() });
  });
  const getTransfer = (account: AccountState, id: string): Transfer => {
    const tr = account.get<Transfer>('transfer', id);
    if (!tr) throw resourceMissing('transfer', id, 'id');
    return tr;
  };
  r.add('GET', '/v1/transfers/:id', (ctx, [id]) => {
    new Params(ctx.params, []);
    return getTransfer(ctx.account, id as string);
  });
  r.add('GET', '/v1/transfers', (ctx) => {
    const p = new Params(ctx.params, [...LIST_PARAMS, 'destination', 'transfer_group']);
    const dest = p.str('destination');
    const group = p.str('transfer_group');
    const items = [...ctx.account.coll<Transfer>('transfer').values()].filter((t) => (!dest || t.destination === dest) && (!group || t.transfer_group === group));
    return paginate(items, p, '/v1/transfers');
  });
  r.add('POST', '/v1/transfers/:id/reversals', (ctx, [id]) => {
    const p = new Params(ctx.params, ['amount', 'description', 'metadata', 'refund_application_fee']);
    const tr = getTransfer(ctx.account, id as string);
    const remaining = tr.amount - tr.amount_reversed;
    const amount = p.int('amount') ?? remaining;
    if (remaining <= 0) throw invalidRequest(`Transfer ${tr.id} has already been fully reversed.`, { param: 'amount' });
    if (amount > remaining || amount < 1) throw invalidRequest(`Reversal amount (${amount}) is greater than the unreversed amount on the transfer (${remaining}).`, { param: 'amount' });
    const dest = ctx.emu.account(tr.destination);
    if (!dest) throw resourceMissing('account', tr.destination, 'destination');
    return reverseTransfer(ctx.emu, ctx.account, dest, tr, amount, p.metadata());
  });
  r.add('GET', '/v1/transfers/:id/reversals', (ctx, [id]) => {
    const p = new Params(ctx.params, [...LIST_PARAMS]);
    const tr = getTransfer(ctx.account, id as string);
    return paginate([...tr.reversals.data].reverse(), p, `/v1/transfers/${tr.id}/reversals`);
  });

  const getFee = (account: AccountState, id: string): ApplicationFee => {
    const fee = account.get<ApplicationFee>('application_fee', id);
    if (!fee) throw resourceMissing('application_fee', id, 'id');
    return fee;
  };
  r.add('GET', '/v1/application_fees/:id', (ctx, [id]) => {
    new Params(ctx.params, []);
    return getFee(ctx.account, id as string);
  });
  r.add('GET', '/v1/application_fees', (ctx) => {
    const p = new Params(ctx.params, [...LIST_PARAMS, 'charge']);
    const charge = p.str('charge');
    return paginate([...ctx.account.coll<ApplicationFee>('application_fee').values()].filter((f) => !charge || f.charge === charge), p, '/v1/application_fees');
  });
  r.add('POST', '/v1/application_fees/:id/refunds', (ctx, [id]) => {
    const p = new Params(ctx.params, ['amount', 'metadata']);
    const fee = getFee(ctx.account, id as string);
    const remaining = fee.amount - fee.amount_refunded;
    const amount = p.int('amount') ?? remaining;
    if (amount > remaining || amount < 1) throw invalidRequest(`Refund amount (${amount}) is greater than the unrefunded amount of the application fee (${remaining}).`, { param: 'amount' });
    refundApplicationFee(ctx.emu, ctx.account, fee, amount);
    return fee.refunds.data[0];
  });

  r.add('POST', '/v1/payouts', (ctx) => {
    const p = new Params(ctx.params, ['amount', 'currency', 'description', 'destination', 'metadata', 'method', 'source_type', 'statement_descriptor', 'payout_method']);
    const amount = p.reqInt('amount');
    const currency = parseCurrency(p.reqStr('currency'));
    if ((currency === 'huf' || currency === 'twd') && amount % 100 !== 0) throw invalidRequest(`${currency.toUpperCase()} payouts must be divisible by 100.`, { param: 'amount' }); // §7.1
    if (ctx.account.balance(currency).available < amount) insufficient();
    const po = createPayout(ctx.emu, ctx.account, {
      amount,
      currency,
      automatic: false,
      description: p.str('description') ?? null,
      destination: p.str('destination') ?? null,
      method: p.oneOf('method', ['standard', 'instant']) ?? 'standard',
      metadata: p.metadata(),
      statement_descriptor: p.str('statement_descriptor') ?? null,
    });
    return po;
  });
  const getPayout = (account: AccountState, id: string): Payout => {
    const po = account.get<Payout>('payout', id);
    if (!po) throw resourceMissing('payout', id, 'id');
    return po;
  };
  r.add('GET', '/v1/payouts/:id', (ctx, [id]) => {
    new Params(ctx.params, []);
    return getPayout(ctx.account, id as string);
  });
  r.add('GET', '/v1/payouts', (ctx) => {
    const p = new Params(ctx.params, [...LIST_PARAMS, 'status', 'destination', 'arrival_date']);
    const status = p.str('status');
    return paginate([...ctx.account.coll<Payout>('payout').values()].filter((x) => !status || x.status === status), p, '/v1/payouts');
  });
  r.add('POST', '/v1/payouts/:id/cancel', (ctx, [id]) => {
    new Params(ctx.params, []);
    const po = getPayout(ctx.account, id as string);
    if (po.status !== 'pending') throw invalidRequest(`Payout ${po.id} cannot be canceled because it is ${po.status}.`, { param: 'payout' });
    const previous = { status: po.status };
    po.status = 'canceled';
    bookTransaction(ctx.emu, ctx.account, { amount: po.amount, currency: po.currency, type: 'payout_cancel', source: po.id });
    ctx.emu.emit(ctx.account, 'payout.updated', po, previous);
    ctx.emu.emit(ctx.account, 'payout.canceled', po);
    return po;
  });

  r.add('GET', '/v1/balance', (ctx) => {
    new Params(ctx.params, []);
    const entries = [...ctx.account.balances.entries()];
    const list = (which: 'available' | 'pending') =>
      entries.length ? entries.map(([currency, b]) => ({ amount: b[which], currency, source_types: { card: b[which] } })) : [{ amount: 0, currency: ctx.account.account.default_currency, source_types: { card: 0 } }];
    return { object: 'balance', available: list('available'), pending: list('pending'), livemode: false };
  });
  r.add('GET', '/v1/balance_transactions/:id', (ctx, [id]) => {
    new Params(ctx.params, []);
    const t = ctx.account.get<BalanceTransaction>('balance_transaction', id as string);
    if (!t) throw resourceMissing('balance_transaction', id as string, 'id');
    return t;
  });
  r.add('GET', '/v1/balance_transactions', (ctx) => {
    const p = new Params(ctx.params, [...LIST_PARAMS, 'type', 'source', 'currency', 'payout']);
    const type = p.str('type');
    const source = p.str('source');
    const currency = p.str('currency')?.toLowerCase();
    const payoutId = p.str('payout');
    let inPayout: Set<string> | undefined;
    if (payoutId) {
      const po = getPayout(ctx.account, payoutId);
      // Stripe links transactions to automatic payouts only.
      if (!po.automatic) throw invalidRequest('Balance transaction history can only be filtered on automatic transfers, not manual.', { param: 'payout' });
      inPayout = new Set(ctx.account.payoutTransactions.get(po.id) ?? []);
    }
    const items = [...ctx.account.coll<BalanceTransaction>('balance_transaction').values()].filter(
      (t) => (!type || t.type === type) && (!source || t.source === source) && (!currency || t.currency === currency) && (!inPayout || inPayout.has(t.id)),
    );
    return paginate(items, p, '/v1/balance_transactions');
  });
}
