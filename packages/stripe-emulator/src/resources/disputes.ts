import type { Emulator } from '../emulator';
import { invalidRequest, resourceMissing } from '../errors';
import { LIST_PARAMS, paginate } from '../lists';
import { bookTransaction } from '../money';
import { Params } from '../params';
import type { Router } from '../router';
import type { AccountState } from '../store';
import type { Charge, Dispute, DisputeStatus } from '../types';

/** §4.2: the chargeback fee withdrawn with the disputed amount (test mode: 15.00). */
export const DISPUTE_FEE = 1500;

const CLOSED: DisputeStatus[] = ['warning_closed', 'won', 'lost', 'prevented'];
export const isClosed = (d: Dispute): boolean => CLOSED.includes(d.status);
export const isInquiry = (d: Dispute): boolean => d.payment_method_details.card.case_type === 'inquiry';

export function getDispute(account: AccountState, id: string): Dispute {
  const d = account.get<Dispute>('dispute', id);
  if (!d) throw resourceMissing('dispute', id, 'dispute');
  return d;
}

function withdraw(emu: Emulator, account: AccountState, d: Dispute): void {
  const txn = bookTransaction(emu, account, { amount: -d.amount, currency: d.currency, type: 'adjustment', source: d.id, fee: DISPUTE_FEE, description: `Chargeback withdrawal for ${d.charge}`, reporting_category: 'dispute' });
  d.balance_transactions.push(txn);
  emu.emit(account, 'charge.dispute.funds_withdrawn', d);
}

/** Opens a dispute: a chargeback withdraws amount + fee at once; an inquiry moves no money (§4.2). */
export function createDispute(emu: Emulator, account: AccountState, ch: Charge, kind: 'chargeback' | 'inquiry', reason: string, amount = ch.amount_captured): Dispute {
  const d: Dispute = {
    id: emu.ids.id('du_'),
    object: 'dispute',
    created: emu.nowSeconds(),
    livemode: false,
    amount,
    currency: ch.currency,
    charge: ch.id,
    payment_intent: ch.payment_intent,
    status: kind === 'inquiry' ? 'warning_needs_response' : 'needs_response',
    reason,
    balance_transactions: [],
    is_charge_refundable: kind === 'inquiry',
    evidence: {},
    evidence_details: { due_by: emu.nowSeconds() + 7 * 86400, has_evidence: false, past_due: false, submission_count: 0 },
    metadata: {},
    payment_method_details: {
      type: 'card',
      card: { brand: ch.payment_method_details.type === 'card' ? ch.payment_method_details.card.brand : 'sepa_debit', case_type: kind, network_reason_code: kind === 'inquiry' ? null : '10.4' },
    },
  };
  account.put('dispute', d);
  emu.own(d.id, account);
  ch.disputed = true;
  emu.emit(account, 'charge.dispute.created', d);
  if (kind === 'chargeback') withdraw(emu, account, d);
  return d;
}

/**
 * Moves a dispute to its next status and emits the matching events. `escalate` turns an
 * inquiry into a chargeback (funds withdrawn); `won` reinstates the withdrawn amount.
 */
export function advanceDispute(emu: Emulator, account: AccountState, d: Dispute, to: DisputeStatus | 'escalate'): Dispute {
  if (isClosed(d)) throw invalidRequest(`This dispute is already closed (status ${d.status}).`, { param: 'dispute' });
  const previous = { status: d.status };
  if (to === 'escalate') {
    if (!isInquiry(d)) throw invalidRequest('Only an inquiry can be escalated.', { param: 'dispute' });
    d.payment_method_details.card.case_type = 'chargeback';
    d.is_charge_refundable = false;
    d.status = 'needs_response';
    emu.emit(account, 'charge.dispute.updated', d, previous);
    withdraw(emu, account, d);
    return d;
  }
  const inquiry = isInquiry(d);
  const allowed: DisputeStatus[] = inquiry ? ['warning_under_review', 'warning_closed', 'prevented'] : ['under_review', 'won', 'lost', 'prevented'];
  if (!allowed.includes(to)) throw invalidRequest(`A ${inquiry ? 'inquiry' : 'chargeback'} cannot move to ${to}.`, { param: 'status' });
  d.status = to;
  if (!CLOSED.includes(to)) {
    emu.emit(account, 'charge.dispute.updated', d, previous);
    return d;
  }
  emu.emit(account, 'charge.dispute.closed', d, previous);
  if (to === 'won' && d.balance_transactions.length > 0) {
    const fee = emu.options.wonDisputeReturnsFee ? -DISPUTE_FEE : 0;
    const txn = bookTransaction(emu, account, { amount: d.amount, currency: d.currency, type: 'adjustment', source: d.id, fee, description: `Chargeback reversal for ${d.charge}`, reporting_category: 'dispute_reversal' });
    d.balance_transactions.push(txn);
    emu.emit(account, 'charge.dispute.funds_reinstated', d);
  }
  return d;
}

/** §10.4 evidence strings decide the outcome once evidence is submitted. */
function resolveEvidence(emu: Emulator, account: AccountState, d: Dispute, text: string | undefined): void {
  if (isClosed(d)) return;
  if (text === 'winning_evidence') advanceDispute(emu, account, d, isInquiry(d) ? 'warning_closed' : 'won');
  else if (text === 'losing_evidence') advanceDispute(emu, account, d, isInquiry(d) ? 'warning_closed' : 'lost');
  else if (text === 'escalate_inquiry_evidence' && isInquiry(d)) advanceDispute(emu, account, d, 'escalate');
}

export function registerDisputes(r: Router): void {
  r.add('GET', '/v1/disputes/:id', (ctx, [id]) => {
    new Params(ctx.params, []);
    return getDispute(ctx.account, id as string);
  });
  r.add('GET', '/v1/disputes', (ctx) => {
    const p = new Params(ctx.params, [...LIST_PARAMS, 'charge', 'payment_intent']);
    const charge = p.str('charge');
    const pi = p.str('payment_intent');
    const items = [...ctx.account.coll<Dispute>('dispute').values()].filter((d) => (!charge || d.charge === charge) && (!pi || d.payment_intent === pi));
    return paginate(items, p, '/v1/disputes');
  });
  r.add('POST', '/v1/disputes/:id', (ctx, [id]) => {
    const p = new Params(ctx.params, ['evidence', 'metadata', 'submit', 'intended_submission_method']);
    const d = getDispute(ctx.account, id as string);
    if (isClosed(d)) throw invalidRequest(`This dispute is already closed (status ${d.status}); evidence can no longer be submitted.`, { param: 'evidence' });
    if (d.status === 'under_review' || d.status === 'warning_under_review') {
      throw invalidRequest('Evidence has already been submitted for this dispute; only one response can be submitted.', { param: 'evidence' });
    }
    const previous: Record<string, unknown> = {};
    const evidence = p.loose('evidence');
    if (evidence) {
      previous.evidence = { ...d.evidence };
      d.evidence = { ...d.evidence, ...evidence };
      d.evidence_details.has_evidence = true;
    }
    if (p.has('metadata')) {
      previous.metadata = d.metadata;
      d.metadata = p.metadata(d.metadata);
    }
    const submit = p.bool('submit') ?? true;
    if (!submit) {
      ctx.emu.emit(ctx.account, 'charge.dispute.updated', d, previous);
      return d;
    }
    d.evidence_details.submission_count++;
    advanceDispute(ctx.emu, ctx.account, d, isInquiry(d) ? 'warning_under_review' : 'under_review');
    const text = typeof d.evidence.uncategorized_text === 'string' ? d.evidence.uncategorized_text : undefined;
    const account = ctx.account;
    const emu = ctx.emu;
    if (emu.options.delays.disputeEvidenceResolutionMs > 0) {
      emu.scheduler.later(emu.options.delays.disputeEvidenceResolutionMs, `dispute ${d.id} evidence`, () => resolveEvidence(emu, account, d, text));
    } else {
      resolveEvidence(emu, account, d, text);
    }
    return d;
  });
  r.add('POST', '/v1/disputes/:id/close', (ctx, [id]) => {
    new Params(ctx.params, []);
    const d = getDispute(ctx.account, id as string);
    return advanceDispute(ctx.emu, ctx.account, d, isInquiry(d) ? 'warning_closed' : 'lost');
  });
}
