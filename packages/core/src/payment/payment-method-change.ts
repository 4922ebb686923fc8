import type { EntityManager } from 'typeorm';
import type { Actor } from '../audit/log-action';
import { KassaError } from '../errors';
import { money, type Money } from '../money/money';
import { assertPayable } from '../order/order-payability';
import { Order } from '../order/order.entity';
import type { ServiceDeps } from '../order/service-deps';
import { findOrder, getEvent } from '../persistence/reads';
import { hasOpenPayment, openPaymentFees, recomputeTotal, replaceOpenFee, setOrderCountry } from '../persistence/order-fees';
import { loadOrderSums, lockOrderWithSums } from '../persistence/order-sums';
import { findOpenPayments } from '../persistence/payment-rows';
import { isUuid } from '../persistence/rows';
import { record } from '../persistence/state-change';
import { withTransaction } from '../persistence/transaction';
import { orderMachine } from '../order/order.machine';
import { assertAvailable } from '../provider/availability';
import type { BasePaymentProvider } from '../provider/base-payment-provider';
import { calculateProviderFee } from '../provider/provider-fee';
import { OrderPayment } from './order-payment.entity';
import { insertPayment, type PaymentService } from './payment.service';

/*
 * The payment-fee arithmetic of pretix's change_payment_provider, shared by the method switch
 * (payment.service.ts) and the order change (order-change.ts), so both charge the same fee.
 *
 * A payment fee is "open" while no confirmed or refunded payment carries it: it belongs to the
 * method the buyer has not paid with yet, and is replaced when they choose another one. A fee
 * a payment was confirmed with stays, as in pretix (the buyer paid it).
 */

/**
 * What a new method's fee is computed on: what is still owed without the open payment fees
 * (pretix: `pending_sum - old_fee`). `pendingSum` comes from the order's sums.
 */
export function feeBase(pendingSum: number, open: readonly { value: number }[], currency: string): Money {
  return money(pendingSum - open.reduce((s, f) => s + f.value, 0), currency);
}

/** What a switch to another payment method did. Amounts in minor units of the order's currency. */
export interface PaymentMethodChangeResult {
  order: Order;
  /** The new attempt (state created), for what is now owed. */
  payment: OrderPayment;
  fee: number;
  previousFee: number;
  previousTotal: number;
  /** The open attempts abandoned for it. */
  canceledPayments: string[];
}

/** What the order page needs to show each method's fee before the buyer commits. */
export interface PaymentMethodQuote {
  /** What the fee is computed on: still owed, without the open payment fee. */
  base: Money;
  /** The open payment fee that a switch replaces. */
  openFee: number;
}

/** Reads the quote (no lock: for display; the switch computes it again under the order lock). */
export async function quotePaymentMethodChange(db: EntityManager, orderId: string): Promise<PaymentMethodQuote> {
  const sums = await loadOrderSums(db, orderId);
  const fees = await openPaymentFees(db, orderId);
  return { base: feeBase(sums.pendingSum, fees, sums.currency), openFee: fees.reduce((s, f) => s + f.value, 0) };
}

/**
 * pretix's change_payment_provider, for the buyer's "pay with another method" and the API: the
 * open attempts are canceled through their providers (outside any transaction; a pending one
 * only where its provider allows aborting), then under the order lock the open payment fee is
 * replaced by the new method's fee on what is still owed (forward or reverse, zero removes it),
 * the total follows, and a new attempt is created for the new amount, logged with its outbox event.
 */
export async function changePaymentMethod(
  deps: ServiceDeps, payments: Pick<PaymentService, 'cancelPayment'>, orderId: string,
  input: { provider: BasePaymentProvider; actor: Actor; country?: string | null },
): Promise<PaymentMethodChangeResult> {
  const { provider, actor } = input;
  if (!isUuid(orderId)) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
  if (input.country !== undefined && input.country !== null && (typeof input.country !== 'string' || !/^[A-Z]{2}$/.test(input.country))) {
    throw new KassaError('VALIDATION_FAILED', { field: 'country', detail: `country must be an upper-case ISO 3166-1 alpha-2 code, got ${String(input.country)}` });
  }
  const m = deps.dataSource.manager;
  const current = await findOrder(m, orderId);
  if (!current) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
  assertOpen(current);
  const event = await getEvent(m, current.eventId);
  // Can this order still be paid (last date of payments, late payments, quota)? Asked before the
  // open attempt is abandoned, and again under the lock below (order-payability.ts).
  await assertPayable(m, { order: current, event, now: deps.clock.now(), quota: 'read' });
  const ctx = await deps.providerContext(event, provider.identifier);
  // The country given now only counts for an order placed without one (asked later, when a
  // restricted method appeared); a country stored on the order is never replaced.
  const countryOf = (order: Order) => order.country ?? input.country ?? undefined;
  // Checked before anything is abandoned, so a refused method leaves the open attempt alone.
  const available = (base: Money, order: Order) =>
    assertAvailable(provider, ctx, { total: base, now: deps.clock.now(), country: countryOf(order) });
  const quote = await quotePaymentMethodChange(m, orderId);
  if (quote.base.amount <= 0) throw new KassaError('ORDER_NOT_PAYABLE', { code: current.code, reason: 'nothing is owed' });
  available(quote.base, current);

  const open = await findOpenPayments(m, orderId);
  for (const p of open) await payments.cancelPayment(p.id, actor);

  return withTransaction(deps.dataSource, async (tx) => {
    const { order, sums } = await lockOrderWithSums(tx, orderId);
    assertOpen(order);
    await assertPayable(tx, { order, event, now: deps.clock.now(), quota: 'read' });
    // Another switch (a second tab, an API client) started an attempt meanwhile: it wins.
    if (await hasOpenPayment(tx, orderId)) throw new KassaError('STATE_CONFLICT', { machine: 'Order', id: order.id, expected: 'no open payment' });
    const fees = await openPaymentFees(tx, orderId);
    const base = feeBase(sums.pendingSum, fees, order.currency);
    if (base.amount <= 0) throw new KassaError('ORDER_NOT_PAYABLE', { code: order.code, reason: 'nothing is owed' });
    available(base, order);
    if (order.country === null && input.country) {
      await setOrderCountry(tx, orderId, input.country);
      order.country = input.country;
    }
    const fee = calculateProviderFee(provider, ctx, base).amount;
    const previousFee = fees.reduce((s, f) => s + f.value, 0);
    const previousTotal = order.total;
    const feeId = await replaceOpenFee(tx, orderId, fees, provider.identifier, fee);
    await recomputeTotal(tx, order);
    // What is now owed (pendingSum's definition); equal to base + fee while the total is the sum
    // of live positions and fees, as every writer keeps it.
    const amount = order.total - sums.paymentRefundSum;
    if (amount <= 0) throw new KassaError('ORDER_NOT_PAYABLE', { code: order.code, reason: 'nothing is owed' });
    const payment = await insertPayment(tx, order, { provider: provider.identifier, amount, feeId });
    const change = { provider: provider.identifier, amount, fee, previousFee, total: order.total, previousTotal, currency: order.currency };
    await record(tx, {
      order, objectType: 'payment', objectId: payment.id, actor,
      // pretix: "payment.changed" when an open attempt was replaced, "payment.started" otherwise.
      action: open.length > 0 ? 'kassa.order.payment.changed' : 'kassa.order.payment.started',
      data: { localId: payment.localId, ...change, canceledPayments: open.map((p) => p.id) },
      topic: 'payment.created', payload: change,
    });
    return { order, payment, fee, previousFee, previousTotal, canceledPayments: open.map((p) => p.id) };
  });
}

function assertOpen(order: Order): void {
  if (!orderMachine.is('payable', order.status)) {
    throw new KassaError('ORDER_NOT_PAYABLE', { code: order.code, reason: `the order is ${order.status}` });
  }
}
