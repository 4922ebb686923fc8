import type { Emulator } from '../emulator';
import { validateAmount } from '../currencies';
import { invalidRequest, resourceMissing } from '../errors';
import { LIST_PARAMS, paginate } from '../lists';
import { bookTransaction } from '../money';
import { Params } from '../params';
import type { Ctx, Router } from '../router';
import type { AccountState } from '../store';
import type { ApplicationFee, Charge, Dispute, PaymentIntent, Refund, Transfer, TransferReversal } from '../types';
import { getCharge, testCardOfCharge } from './charges';
import { isClosed } from './disputes';

export function getRefund(account: AccountState, id: string): Refund {
  const re = account.get<Refund>('refund', id);
  if (!re) throw resourceMissing('refund', id, 'refund');
  return re;
}

/** Refunds that still count against the charge: pending and succeeded (§3.3 plugin rule). */
function refundedSoFar(account: AccountState, ch: Charge): number {
  let sum = 0;
  for (const re of account.coll<Refund>('refund').values()) if (re.charge === ch.id && (re.status === 'pending' || re.status === 'succeeded' || re.status === 'requires_action')) sum += re.amount;
  return sum;
}

/** Finds the charge a refund applies to, with Stripe's errors for PIs that have nothing to refund (§1.7). */
function chargeToRefund(ctx: Ctx, p: Params): Charge {
  const piId = p.str('payment_intent');
  const chId = p.str('charge');
  if (piId && chId) throw invalidRequest('You may only specify one of these parameters: charge, payment_intent.', { code: 'parameters_exclusive', param: 'charge' });
  if (!piId && !chId) throw invalidRequest('One of the following params should be provided for this request: payment_intent or charge.', { code: 'parameter_missing', param: 'payment_intent' });
  const uncaptured = (what: string): never => {
    throw invalidRequest(`This ${what} has not been captured, so there is nothing to refund. Cancel the PaymentIntent instead to release the authorization.`, {
      code: ctx.emu.options.errorCodes.refundUncaptured ?? undefined,
      param: piId ? 'payment_intent' : 'charge',
    });
  };
  if (piId) {
    const pi = ctx.account.get<PaymentIntent>('payment_intent', piId);
    if (!pi) throw resourceMissing('payment_intent', piId, 'payment_intent');
    if (pi.status === 'requires_capture') uncaptured(`PaymentIntent (${pi.id})`);
    const ch = pi.latest_charge ? ctx.account.get<Charge>('charge', pi.latest_charge) : undefined;
    if (pi.status !== 'succeeded' || !ch || ch.status !== 'succeeded') {
      throw invalidRequest(`This PaymentIntent (${pi.id}) does not have a successful charge to refund.`, { param: 'payment_intent' });
    }
    return ch;
  }
  const ch = getCharge(ctx.account, chId as string);
  if (ch.status !== 'succeeded') throw invalidRequest(`Charge ${ch.id} does not have a successful payment to refund.`, { param: 'charge' });
  if (!ch.captured) uncaptured(`charge (${ch.id})`);
  return ch;
}

function reverseProportionally(emu: Emulator, account: AccountState, ch: Charge, re: Refund, opts: { reverseTransfer: boolean; refundFee: boolean }): void {
  // Proportional shares; the refund that completes the charge takes whatever is left, so a series
  // of partial refunds reverses exactly the whole transfer and fee.
  const complete = ch.amount_refunded >= ch.amount_captured;
  const share = (total: number): number => (complete ? total : Math.floor((total * re.amount) / ch.amount_captured));
  if (opts.reverseTransfer && ch.transfer) {
    const tr = account.get<Transfer>('transfer', ch.transfer);
    const dest = tr ? emu.account(tr.destination) : undefined;
    if (tr && dest) {
      const amount = Math.min(share(tr.amount), tr.amount - tr.amount_reversed);
      if (amount > 0) re.transfer_reversal = reverseTransfer(emu, account, dest, tr, amount).id;
    }
  }
  if (opts.refundFee && ch.application_fee) {
    const platform = emu.platformOf(account);
    const fee = platform.get<ApplicationFee>('application_fee', ch.application_fee);
    if (fee) refundApplicationFee(emu, platform, fee, Math.min(share(fee.amount), fee.amount - fee.amount_refunded));
  }
}

export function reverseTransfer(emu: Emulator, platform: AccountState, destination: AccountState, tr: Transfer, amount: number, metadata: Record<string, string> = {}): TransferReversal {
  const rev: TransferReversal = { id: emu.ids.id('trr_'), object: 'transfer_reversal', created: emu.nowSeconds(), livemode: false, amount, currency: tr.currency, transfer: tr.id, metadata };
  platform.put('transfer_reversal', rev);
  bookTransaction(emu, platform, { amount, currency: tr.currency, type: 'transfer_refund', source: rev.id });
  bookTransaction(emu, destination, { amount: -amount, currency: tr.currency, type: 'payment_refund', source: rev.id });
  tr.amount_reversed += amount;
  tr.reversed = tr.amount_reversed >= tr.amount;
  tr.reversals.data.unshift(rev);
  emu.emit(platform, 'transfer.reversed', tr);
  return rev;
}

export function refundApplicationFee(emu: Emulator, platform: AccountState, fee: ApplicationFee, amount: number): void {
  if (amount <= 0) return;
  const refund = { id: emu.ids.id('fr_'), object: 'fee_refund', amount, currency: fee.currency, fee: fee.id, created: emu.nowSeconds(), metadata: {} };
  platform.put('fee_refund', refund);
  bookTransaction(emu, platform, { amount: -amount, currency: fee.currency, type: 'application_fee_refund', source: refund.id });
  const connected = emu.account(fee.account);
  if (connected) bookTransaction(emu, connected, { amount, currency: fee.currency, type: 'application_fee_refund', source: refund.id });
  fee.amount_refunded += amount;
  fee.refunded = fee.amount_refunded >= fee.amount;
  fee.refunds.data.unshift(refund);
  emu.emit(platform, 'application_fee.refunded', fee);
}

/** A succeeded refund turns failed later (§3.1): money back to the balance, amount_refunded reduced. */
export function failRefund(emu: Emulator, account: AccountState, re: Refund, reason = 'declined'): Refund {
  if (re.status === 'failed' || re.status === 'canceled') throw invalidRequest(`Refund ${re.id} is already ${re.status}.`, { param: 'refund' });
  const previous = { status: re.status };
  re.status = 'failed';
  re.failure_reason = reason;
  const txn = bookTransaction(emu, account, { amount: re.amount, currency: re.currency, type: 'refund_failure', source: re.id });
  re.failure_balance_transaction = txn.id;
  const ch = account.get<Charge>('charge', re.charge);
  if (ch) {
    ch.amount_refunded -= re.amount;
    ch.refunded = false;
  }
  emu.emit(account, 'refund.failed', re);
  emu.emit(account, 'refund.updated', re, previous);
  return re;
}

export function succeedRefund(emu: Emulator, account: AccountState, re: Refund): Refund {
  if (re.status !== 'pending') throw invalidRequest(`Refund ${re.id} is not pending (status ${re.status}).`, { param: 'refund' });
  const previous = { status: re.status, pending_reason: re.pending_reason };
  re.status = 'succeeded';
  delete re.pending_reason;
  emu.emit(account, 'refund.updated', re, previous);
  return re;
}

export function registerRefunds(r: Router): void {
  r.add('POST', '/v1/refunds', (ctx) => {
    const p = new Params(ctx.params, ['amount', 'charge', 'payment_intent', 'reason', 'metadata', 'refund_application_fee', 'reverse_transfer', 'instructions_email', 'currency', 'customer', 'origin']);
    const ch = chargeToRefund(ctx, p);
    const reverse = p.bool('reverse_transfer') === true;
    // Only a charge that made a transfer (destination) can reverse it; SCT transfers are reversed on their own.
    if (reverse && !ch.transfer) throw invalidRequest(`Charge ${ch.id} has no transfer to reverse: reverse_transfer applies to destination charges.`, { param: 'reverse_transfer' });
    if (p.bool('refund_application_fee') === true && ch.transfer_data && !reverse) {
      throw invalidRequest('Refunding the application fee of a destination charge requires reverse_transfer=true as well.', { param: 'refund_application_fee' });
    }
    const dispute = [...ctx.account.coll<Dispute>('dispute').values()].find((d) => d.charge === ch.id && !d.is_charge_refundable && !isClosed(d));
    if (dispute) throw invalidRequest(`Charge ${ch.id} has been charged back; cannot issue a refund.`, { code: 'charge_disputed', param: p.has('charge') ? 'charge' : 'payment_intent' });
    const remaining = ch.amount_captured - refundedSoFar(ctx.account, ch);
    if (remaining <= 0) throw invalidRequest(`Charge ${ch.id} has already been refunded.`, { code: 'charge_already_refunded' });
    const amount = p.int('amount') ?? remaining;
    if (amount > remaining) {
      throw invalidRequest(`Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`, { code: 'amount_too_large', param: 'amount' });
    }
    validateAmount(amount, ch.currency, ctx.emu.options, 'amount', false);
    const card = testCardOfCharge(ctx.account, ch);
    const re: Refund = {
      id: ctx.emu.ids.id('re_'),
      object: 'refund',
      created: ctx.emu.nowSeconds(),
      livemode: false,
      amount,
      balance_transaction: null,
      charge: ch.id,
      currency: ch.currency,
      metadata: p.metadata(),
      payment_intent: ch.payment_intent,
      reason: p.oneOf('reason', ['duplicate', 'fraudulent', 'requested_by_customer']) ?? null,
      status: card.refund === 'pending_then_succeed' ? 'pending' : 'succeeded',
      transfer_reversal: null,
      source_transfer_reversal: null,
    };
    if (re.status === 'pending') re.pending_reason = 'processing';
    ctx.account.put('refund', re);
    ctx.emu.own(re.id, ctx.account);
    re.balance_transaction = bookTransaction(ctx.emu, ctx.account, { amount: -amount, currency: ch.currency, type: 'refund', source: re.id }).id;
    ch.amount_refunded += amount;
    ch.refunded = ch.amount_refunded >= ch.amount_captured;
    reverseProportionally(ctx.emu, ctx.account, ch, re, { reverseTransfer: p.bool('reverse_transfer') === true, refundFee: p.bool('refund_application_fee') === true });
    ctx.emu.emit(ctx.account, 'refund.created', re);
    ctx.emu.emit(ctx.account, 'charge.refunded', ch);
    const { emu, account } = ctx;
    if (card.refund === 'pending_then_succeed') emu.scheduler.later(emu.options.delays.refundPendingToSucceededMs, `refund ${re.id} succeed`, () => succeedRefund(emu, account, re));
    if (card.refund === 'fail_later') emu.scheduler.later(emu.options.delays.refundFailMs, `refund ${re.id} fail`, () => failRefund(emu, account, re));
    return re;
  });
  r.add('GET', '/v1/refunds/:id', (ctx, [id]) => {
    new Params(ctx.params, []);
    return getRefund(ctx.account, id as string);
  });
  r.add('POST', '/v1/refunds/:id', (ctx, [id]) => {
    const p = new Params(ctx.params, ['metadata']);
    const re = getRefund(ctx.account, id as string);
    const previous = { metadata: re.metadata };
    re.metadata = p.metadata(re.metadata);
    ctx.emu.emit(ctx.account, 'refund.updated', re, previous);
    return re;
  });
  r.add('POST', '/v1/refunds/:id/cancel', (ctx, [id]) => {
    new Params(ctx.params, []);
    const re = getRefund(ctx.account, id as string);
    if (re.status !== 'requires_action') throw invalidRequest(`Refund ${re.id} cannot be canceled because it has a status of ${re.status}; only refunds in requires_action can be canceled.`, { param: 'refund' });
    return re;
  });
  r.add('GET', '/v1/refunds', (ctx) => {
    const p = new Params(ctx.params, [...LIST_PARAMS, 'charge', 'payment_intent']);
    const charge = p.str('charge');
    const pi = p.str('payment_intent');
    const items = [...ctx.account.coll<Refund>('refund').values()].filter((x) => (!charge || x.charge === charge) && (!pi || x.payment_intent === pi));
    return paginate(items, p, '/v1/refunds');
  });
}
