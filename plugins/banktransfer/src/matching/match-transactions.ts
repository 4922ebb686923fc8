import { orderMachine, type OrderStatus } from '@kassa/core';
import type { StatementTransaction } from '../statement/transaction';
import { findOrderCodes, type CodedOrder } from './find-order-codes';

/** Where an order stands, as the order machine's named sets say (never a status literal). */
export interface OrderStanding {
  readonly awaitingPayment: boolean;
  readonly paid: boolean;
  readonly canceled: boolean;
  readonly expired: boolean;
}

/** The standing of an order in a given status, asked of the order machine. */
export function orderStanding(status: OrderStatus): OrderStanding {
  return {
    awaitingPayment: orderMachine.is('awaitingPayment', status),
    paid: orderMachine.is('paid', status),
    canceled: orderMachine.is('canceled', status),
    expired: orderMachine.is('expired', status),
  };
}

/** An order a transfer may be for (the caller loads the event's or organizer's orders). */
export interface CandidateOrder extends CodedOrder {
  readonly currency: string;
  /** Still owed in minor units: total minus confirmed payments plus done refunds (core's pending sum). */
  readonly pendingSum: number;
  readonly standing: OrderStanding;
}

/**
 * Why a booked amount needs the organizer's eye although it was confirmed:
 * - `partial`: less than owed; the order shows what is still owed;
 * - `overpaid`: more than owed (the excess is the organizer's to refund);
 * - `order-already-paid`, `order-canceled`: money for an order that did not need it; confirmed so
 *   it is never dropped, flagged so the organizer refunds or re-opens;
 * - `order-expired`: core's confirm revives the order when quota allows, else it stays expired
 *   with the payment confirmed (pretix's quota-exceeded case).
 */
export type MatchFlag = 'partial' | 'overpaid' | 'order-already-paid' | 'order-canceled' | 'order-expired';

export interface Allocation<O extends CandidateOrder> {
  readonly order: O;
  /** The payment to confirm on this order, minor units. */
  readonly amount: number;
  readonly flags: readonly MatchFlag[];
  /** What the order still owes after this payment. */
  readonly stillOwed: number;
  /** What this payment brings beyond what was owed. */
  readonly overpaidBy: number;
}

/**
 * - `not-a-credit`: money going out or a zero line (refunds, fees), not a buyer's payment;
 * - `reversal`: the bank undid an earlier booking (a refund sent back): not a buyer's payment, so a
 *   person decides, even when the text names an order;
 * - `no-order`: no order code found in the reference;
 * - `currency-mismatch`: the transfer's currency is not the order's;
 * - `split-not-possible`: several orders named, but their open amounts do not add up to the
 *   transfer (or one of them cannot take a share); a person decides, as in pretix.
 */
export type UnmatchedReason = 'not-a-credit' | 'reversal' | 'no-order' | 'currency-mismatch' | 'split-not-possible';

export type MatchResult<O extends CandidateOrder> =
  | { readonly kind: 'confirm'; readonly transaction: StatementTransaction; readonly allocations: readonly Allocation<O>[] }
  | { readonly kind: 'unmatched'; readonly transaction: StatementTransaction; readonly reason: UnmatchedReason; readonly orders: readonly O[] };

/**
 * Decides for each transaction what to book, as pretix's bank transfer import does, except that
 * money for a paid, canceled or expired order is confirmed and flagged instead of left aside (the
 * issue's rule: money is never dropped). Transactions are taken in statement order, and each
 * allocation lowers the order's pending sum for the ones after it, so two partial transfers in one
 * statement are seen as such. Pure: the caller books the results through core's payments port.
 */
export function matchTransactions<O extends CandidateOrder>(transactions: readonly StatementTransaction[], orders: readonly O[]): MatchResult<O>[] {
  const pending = new Map<O, number>(orders.map((o) => [o, o.pendingSum]));
  return transactions.map((transaction) => {
    const unmatched = (reason: UnmatchedReason, found: readonly O[] = []): MatchResult<O> => ({ kind: 'unmatched', transaction, reason, orders: found });
    if (transaction.amount <= 0) return unmatched('not-a-credit');
    const found = findOrderCodes(transaction.reference, orders);
    if (transaction.reversal) return unmatched('reversal', found);
    if (found.length === 0) return unmatched('no-order');
    if (found.some((o) => o.currency !== transaction.currency)) return unmatched('currency-mismatch', found);

    if (found.length === 1) {
      const order = found[0]!;
      const owed = Math.max(pending.get(order)!, 0);
      const allocation = allocate(order, transaction.amount, owed);
      pending.set(order, pending.get(order)! - transaction.amount);
      return { kind: 'confirm', transaction, allocations: [allocation] };
    }

    // Several orders in one transfer: only when each can take money and their open amounts add up exactly.
    const shares = found.map((o) => pending.get(o)!);
    const splittable = found.every((o, i) => (o.standing.awaitingPayment || o.standing.expired) && shares[i]! > 0);
    if (!splittable || shares.reduce((a, b) => a + b, 0) !== transaction.amount) return unmatched('split-not-possible', found);
    const allocations = found.map((o, i) => allocate(o, shares[i]!, shares[i]!));
    for (const o of found) pending.set(o, 0);
    return { kind: 'confirm', transaction, allocations };
  });
}

/** What booking `amount` on an order that owes `owed` means (also for a transfer assigned by hand). */
export function allocate<O extends CandidateOrder>(order: O, amount: number, owed: number): Allocation<O> {
  const flags: MatchFlag[] = [];
  if (order.standing.canceled) {
    return { order, amount, flags: ['order-canceled'], stillOwed: 0, overpaidBy: amount };
  }
  if (order.standing.paid && owed === 0) flags.push('order-already-paid');
  if (order.standing.expired) flags.push('order-expired');
  const stillOwed = Math.max(owed - amount, 0);
  const overpaidBy = Math.max(amount - owed, 0);
  if (stillOwed > 0) flags.push('partial');
  if (overpaidBy > 0) flags.push('overpaid');
  return { order, amount, flags, stillOwed, overpaidBy };
}
