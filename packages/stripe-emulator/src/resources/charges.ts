import type { CardBehaviour } from '../cards';
import { cardFor } from '../cards';
import type { Emulator } from '../emulator';
import { resourceMissing } from '../errors';
import { LIST_PARAMS, paginate } from '../lists';
import { bookTransaction, cardFee } from '../money';
import { Params } from '../params';
import type { Router } from '../router';
import type { AccountState } from '../store';
import type { ApplicationFee, Charge, PaymentIntent, PaymentMethod, Transfer } from '../types';
import { cardNumberOf } from './payment-methods';

export function getCharge(account: AccountState, id: string, param = 'charge'): Charge {
  const ch = account.get<Charge>('charge', id);
  if (!ch) throw resourceMissing('charge', id, param);
  return ch;
}

/** A charge for one confirmation attempt of a PI; failed attempts keep their failed charge (§1.3 invariant 1). */
export function createCharge(
  emu: Emulator,
  account: AccountState,
  pi: PaymentIntent,
  pm: PaymentMethod,
  outcome: { ok: true } | { ok: false; failure: Extract<CardBehaviour, { kind: 'decline' }> | { code: string; decline_code?: string; message: string } },
): Charge {
  const ch: Charge = {
    id: emu.ids.id('ch_'),
    object: 'charge',
    created: emu.nowSeconds(),
    livemode: false,
    amount: pi.amount,
    amount_captured: 0,
    amount_refunded: 0,
    application_fee: null,
    application_fee_amount: pi.application_fee_amount,
    balance_transaction: null,
    captured: false,
    currency: pi.currency,
    customer: pi.customer,
    description: pi.description,
    disputed: false,
    failure_code: outcome.ok ? null : outcome.failure.code,
    failure_message: outcome.ok ? null : outcome.failure.message,
    metadata: { ...pi.metadata },
    on_behalf_of: pi.on_behalf_of,
    outcome: outcome.ok
      ? { network_status: 'approved_by_network', reason: null, risk_level: 'normal', seller_message: 'Payment complete.', type: 'authorized' }
      : { network_status: 'declined_by_network', reason: outcome.failure.decline_code ?? null, risk_level: 'normal', seller_message: 'The bank did not return any further details with this decline.', type: 'issuer_declined' },
    paid: outcome.ok && pm.type === 'card',
    payment_intent: pi.id,
    payment_method: pm.id,
    payment_method_details: pm.card
      ? { type: 'card', card: { brand: pm.card.brand, last4: pm.card.last4, exp_month: pm.card.exp_month, exp_year: pm.card.exp_year, country: pm.card.country, funding: pm.card.funding, wallet: pm.card.wallet } }
      : { type: 'sepa_debit', sepa_debit: { bank_code: pm.sepa_debit?.bank_code ?? '', country: pm.sepa_debit?.country ?? '', last4: pm.sepa_debit?.last4 ?? '', fingerprint: pm.sepa_debit?.fingerprint ?? '', mandate: null } },
    refunded: false,
    status: outcome.ok ? (pm.type === 'sepa_debit' ? 'pending' : 'succeeded') : 'failed',
    transfer: null,
    transfer_data: pi.transfer_data ? { destination: pi.transfer_data.destination, amount: pi.transfer_data.amount ?? null } : null,
    transfer_group: pi.transfer_group,
  };
  account.put('charge', ch);
  account.chargeKeys.set(ch.id, emu.current?.idempotencyKey ?? null);
  emu.own(ch.id, account);
  return ch;
}

/**
 * Books the money side of a captured charge: balance transaction with fee, and for Connect
 * the destination transfer and the application fee (§9.4). With automatic_async this runs
 * later and a `charge.updated` event announces it (§1.3).
 */
export function settleCharge(emu: Emulator, account: AccountState, ch: Charge): void {
  const txn = bookTransaction(emu, account, { amount: ch.amount_captured, currency: ch.currency, type: 'charge', source: ch.id, fee: cardFee(ch.amount_captured), reporting_category: 'charge' });
  ch.balance_transaction = txn.id;
  const platform = emu.platformOf(account);
  const feeAmount = ch.application_fee_amount ? Math.min(ch.application_fee_amount, ch.amount_captured) : 0;
  if (ch.transfer_data) {
    const destination = emu.account(ch.transfer_data.destination);
    if (destination) {
      // §9.4 (destination-charges docs): the full amount goes to the destination, then the application fee
      // comes back to the platform as an ApplicationFee; with transfer_data[amount] only that amount moves.
      const amount = Math.min(ch.transfer_data.amount ?? ch.amount_captured, ch.amount_captured);
      const tr = createTransfer(emu, account, destination, { amount, currency: ch.currency, source_transaction: ch.id, transfer_group: ch.transfer_group });
      ch.transfer = tr.id;
      if (feeAmount > 0 && ch.transfer_data.amount === null) ch.application_fee = createApplicationFee(emu, account, destination, ch, feeAmount).id;
    }
  } else if (account !== platform && feeAmount > 0) {
    // Direct charge: the fee moves from the connected account to the platform.
    ch.application_fee = createApplicationFee(emu, platform, account, ch, feeAmount).id;
  }
}

export function createTransfer(
  emu: Emulator,
  platform: AccountState,
  destination: AccountState,
  t: { amount: number; currency: string; source_transaction?: string | null; transfer_group?: string | null; description?: string | null; metadata?: Record<string, string> },
): Transfer {
  const id = emu.ids.id('tr_');
  const txn = bookTransaction(emu, platform, { amount: -t.amount, currency: t.currency, type: 'transfer', source: id });
  const payment = emu.ids.id('py_');
  bookTransaction(emu, destination, { amount: t.amount, currency: t.currency, type: 'payment', source: payment });
  const tr: Transfer = {
    id,
    object: 'transfer',
    created: emu.nowSeconds(),
    livemode: false,
    amount: t.amount,
    amount_reversed: 0,
    currency: t.currency,
    destination: destination.id,
    destination_payment: payment,
    reversed: false,
    reversals: { object: 'list', data: [], has_more: false, url: `/v1/transfers/${id}/reversals` },
    source_transaction: t.source_transaction ?? null,
    transfer_group: t.transfer_group ?? null,
    description: t.description ?? null,
    metadata: t.metadata ?? {},
    balance_transaction: txn.id,
  };
  platform.put('transfer', tr);
  emu.emit(platform, 'transfer.created', tr);
  return tr;
}

export function createApplicationFee(emu: Emulator, platform: AccountState, connected: AccountState, ch: Charge, amount: number): ApplicationFee {
  const id = emu.ids.id('fee_');
  const txn = bookTransaction(emu, platform, { amount, currency: ch.currency, type: 'application_fee', source: id });
  // The fee always leaves the connected account: a direct charge's proceeds, or a destination charge's transfer.
  bookTransaction(emu, connected, { amount: -amount, currency: ch.currency, type: 'application_fee', source: id });
  const fee: ApplicationFee = {
    id,
    object: 'application_fee',
    created: emu.nowSeconds(),
    livemode: false,
    account: connected.id,
    amount,
    amount_refunded: 0,
    currency: ch.currency,
    charge: ch.id,
    originating_transaction: null,
    refunded: false,
    refunds: { object: 'list', data: [], has_more: false, url: `/v1/application_fees/${id}/refunds` },
    application: platform.clientId || platform.id,
    balance_transaction: txn.id,
  };
  platform.put('application_fee', fee);
  emu.emit(platform, 'application_fee.created', fee);
  return fee;
}

export function testCardOfCharge(account: AccountState, ch: Charge) {
  return cardFor(cardNumberOf(account, ch.payment_method ?? ''));
}

export function registerCharges(r: Router): void {
  r.add('GET', '/v1/charges/:id', (ctx, [id]) => {
    new Params(ctx.params, []);
    return getCharge(ctx.account, id as string, 'id');
  });
  r.add('POST', '/v1/charges/:id', (ctx, [id]) => {
    const p = new Params(ctx.params, ['metadata', 'description', 'receipt_email', 'shipping', 'fraud_details', 'transfer_group', 'customer']);
    const ch = getCharge(ctx.account, id as string, 'id');
    const previous: Record<string, unknown> = {};
    if (p.has('metadata')) {
      previous.metadata = ch.metadata;
      ch.metadata = p.metadata(ch.metadata);
    }
    if (p.has('description')) {
      previous.description = ch.description;
      ch.description = p.str('description') ?? null;
    }
    ctx.emu.emit(ctx.account, 'charge.updated', ch, previous);
    return ch;
  });
  r.add('GET', '/v1/charges', (ctx) => {
    const p = new Params(ctx.params, [...LIST_PARAMS, 'customer', 'payment_intent', 'transfer_group']);
    const customer = p.str('customer');
    const pi = p.str('payment_intent');
    const items = [...ctx.account.coll<Charge>('charge').values()].filter((c) => (!customer || c.customer === customer) && (!pi || c.payment_intent === pi));
    return paginate(items, p, '/v1/charges');
  });
}
