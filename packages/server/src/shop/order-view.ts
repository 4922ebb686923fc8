import { timingSafeEqual } from 'node:crypto';
import {
  formatMoney, KassaError, lastDatePassed, money, orderMachine, paymentMachine, planMachine,
  type BasePaymentProvider, type CurrencyCode, type Event, type Order, type OrderFee, type OrderPayment, type OrderSums, type ProviderContext,
} from '@kassa/core/host';
import type { ShopEvent } from './catalog';
import { publicNameOf, type ShopContext } from './shop-context';

/** An order reached through its secret link, with what its page shows. */
export interface LoadedOrder {
  order: Order;
  sums: OrderSums;
  payments: OrderPayment[];
}

/**
 * The order behind `/order/:code/:secret/`. A wrong secret answers exactly like an unknown code
 * (NOT_FOUND), and the secret is compared in constant time, so the link cannot be guessed or probed.
 */
export async function loadOrderBySecret(shop: ShopContext, event: Event, code: string, secret: string): Promise<LoadedOrder> {
  const order = await shop.orders.orderOfEventByCode(event.id, code);
  if (!order || !sameSecret(order.secret, secret)) throw new KassaError('NOT_FOUND', { entity: 'Order' });
  const [sums, payments] = await Promise.all([
    shop.deps.core.orders.getSummary(order.id),
    shop.orders.payments(order.organizerId, order.id),
  ]);
  return { order, sums, payments };
}

function sameSecret(stored: string, given: string): boolean {
  const a = Buffer.from(stored);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Whether the buyer may start a new payment (retry, or switch method), and why not. Whether the
 * order can still be paid at all is core's decision (orders.paymentRefusal: paid, canceled, past
 * the last date of payments, expired without late payments or quota, nothing owed); the shop adds
 * only its own rule about replacing a payment already on its way.
 */
export async function paymentChange(loaded: LoadedOrder, shop: ShopContext): Promise<{ allowed: true } | { allowed: false; reason: string }> {
  const refusal = await shop.deps.core.orders.paymentRefusal(loaded.order.id);
  if (refusal) return { allowed: false, reason: refusal.reason };
  // A running plan: each instalment is paid from its own payment (a new attempt would abandon them all).
  const plan = await shop.deps.core.plans.view(loaded.order.id);
  if (plan && planMachine.is('running', plan.plan.state)) return { allowed: false, reason: 'it is paid in instalments (each one from its own payment)' };
  for (const p of loaded.payments) {
    if (!paymentMachine.is('inTransit', p.state)) continue;
    const provider = shop.deps.providers.has(p.provider) ? shop.deps.providers.get(p.provider) : null;
    // pretix's abort_pending_allowed: money may already be on its way (a bank transfer, a 3-D Secure check).
    if (!provider?.abortPendingAllowed) return { allowed: false, reason: 'a payment is on its way and cannot be replaced' };
  }
  return { allowed: true };
}

const statusLabels: Record<Order['status'], string> = { pending: 'Awaiting payment', paid: 'Paid', expired: 'Expired', canceled: 'Canceled' };
const paymentLabels: Record<OrderPayment['state'], string> = {
  created: 'Not started', pending: 'Pending', confirmed: 'Paid', failed: 'Failed', canceled: 'Canceled', refunded: 'Refunded',
};

/** The order page's view model: amounts formatted on the server, provider views resolved. */
export async function orderPageView(shop: ShopContext, where: ShopEvent, loaded: LoadedOrder) {
  const { event } = where;
  const { order, sums, payments } = loaded;
  const currency = order.currency.trim() as CurrencyCode;
  const locale = order.locale || event.locale;
  const fmt = (amount: number) => formatMoney(money(amount, currency), locale);
  const { positions, fees } = await shop.orders.positionsAndFees(order.organizerId, order.id, { liveFees: true });
  const productName = await shop.orders.productNames(order.organizerId, positions.map((p) => p.productId));

  const contexts = new Map<string, { provider: BasePaymentProvider; ctx: ProviderContext } | null>();
  async function providerFor(id: string) {
    if (!contexts.has(id)) {
      contexts.set(id, shop.deps.providers.has(id) ? { provider: shop.deps.providers.get(id), ctx: await shop.deps.providerContext(event, id) } : null);
    }
    return contexts.get(id)!;
  }

  const paymentViews = [];
  for (const p of payments) {
    const found = await providerFor(p.provider);
    let pendingHtml: string | null = null;
    if (found && paymentMachine.is('open', p.state)) {
      pendingHtml = shop.views.render(found.provider.paymentPendingRender(found.ctx, { order, payment: p }));
    }
    paymentViews.push({
      fullId: `${order.code}-P-${p.localId}`,
      method: found ? publicNameOf(found.provider, found.ctx) : p.provider,
      amount: fmt(p.amount),
      state: p.state,
      stateLabel: paymentLabels[p.state],
      pendingHtml,
    });
  }

  const paid = paidOf(payments);
  // paymentRefundSum is paid minus refunds (created, in transit or done), so the difference is what went back.
  const refunded = paid - sums.paymentRefundSum;
  return {
    order: {
      code: order.code,
      status: order.status,
      awaitingPayment: orderMachine.is('awaitingPayment', order.status),
      statusLabel: sums.isPendingWithFullPayment ? 'Paid, awaiting confirmation' : statusLabels[order.status],
      ...explain(order, sums, event, payments, fmt, shop.deps.clock.now()),
      total: fmt(order.total),
      paidSum: paid > 0 ? fmt(paid) : null,
      refundedSum: refunded > 0 ? fmt(refunded) : null,
      // Only an open order asks for money: a paid order with a partial refund is not "still to pay".
      openSum: sums.pendingSum > 0 && orderMachine.is('payable', order.status) ? fmt(sums.pendingSum) : null,
      email: order.email ?? '',
      createdAt: formatDate(order.createdAt, event.timezone, locale),
      expires: formatDate(order.expires, event.timezone, locale),
    },
    positions: positions.map((p) => ({ no: p.positionNo, name: productName.get(p.productId) ?? 'Ticket', price: fmt(p.price), canceled: p.canceled })),
    fees: fees.map((f) => ({ description: f.description || feeLabel(f), value: fmt(f.value) })),
    payments: paymentViews,
  };
}

function paidOf(payments: OrderPayment[]): number {
  return payments.filter((p) => paymentMachine.is('counting', p.state)).reduce((s, p) => s + p.amount, 0);
}

function feeLabel(f: OrderFee): string {
  if (f.feeType === 'payment') return 'Payment fee';
  if (f.feeType === 'cancellation') return 'Cancellation fee';
  return 'Service fee';
}

/** What the buyer should understand about the order's state, in one sentence or two. */
function explain(order: Order, sums: OrderSums, event: Event, payments: OrderPayment[], fmt: (n: number) => string, now: Date): { explanation: string; explanationKind: string } {
  const deadline = formatDate(order.expires, event.timezone, order.locale || event.locale);
  if (orderMachine.is('paid', order.status)) {
    return { explanationKind: 'success', explanation: 'Your order is paid. Thank you! Your tickets are confirmed.' };
  }
  if (orderMachine.is('canceled', order.status)) {
    return {
      explanationKind: 'error',
      explanation: sums.paymentRefundSum > 0
        ? `This order was canceled. ${fmt(sums.paymentRefundSum)} you paid has not been refunded yet; the organizer will take care of it.`
        : 'This order was canceled. Its tickets are no longer valid.',
    };
  }
  if (orderMachine.is('expired', order.status)) {
    return {
      explanationKind: 'warning',
      explanation: event.paymentTermAcceptLate && !lastDatePassed(event, now)
        ? `The payment deadline (${deadline}) has passed, so your tickets are no longer reserved. You can still pay: if tickets are still available, your order becomes valid again.`
        : `The payment deadline (${deadline}) has passed and your tickets were released. Please place a new order.`,
    };
  }
  // Awaiting payment.
  if (sums.isPendingWithFullPayment) {
    return { explanationKind: 'warning', explanation: 'We received your payment, but the tickets could not be confirmed automatically. The organizer will get in touch.' };
  }
  if (lastDatePassed(event, now)) {
    return { explanationKind: 'warning', explanation: 'The last date for payments of this event has passed, so this order can no longer be paid. Please contact the organizer.' };
  }
  const onItsWay = payments.some((p) => paymentMachine.is('inTransit', p.state));
  return {
    explanationKind: 'info',
    explanation: onItsWay
      ? `Your tickets are reserved until ${deadline}. We are waiting for your payment of ${fmt(sums.pendingSum)}; see the instructions below.`
      : `Your tickets are reserved until ${deadline}. Please pay ${fmt(sums.pendingSum)} before then.`,
  };
}

function formatDate(d: Date, timeZone: string, locale: string): string {
  try {
    return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(d);
  } catch {
    return d.toISOString();
  }
}
