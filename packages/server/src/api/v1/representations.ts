import type {
  BasePaymentProvider, Event, Order, OrderPayment, OrderReadStore, OrderRefund, OrderSums, PaymentRefusal, ProviderRegistry,
} from '@kassa/core/host';

/** A payment as the API shows it; provider details come from the provider's apiPaymentDetails. */
export function paymentJson(order: Pick<Order, 'code'>, p: OrderPayment, providers: ProviderRegistry) {
  const provider: BasePaymentProvider | null = providers.has(p.provider) ? providers.get(p.provider) : null;
  return {
    id: p.id, fullId: `${order.code}-P-${p.localId}`, localId: p.localId, state: p.state, amount: p.amount, currency: p.currency,
    provider: p.provider, createdAt: p.createdAt, paymentDate: p.paymentDate, details: provider?.apiPaymentDetails(p) ?? {},
  };
}

export function refundJson(order: Pick<Order, 'code'>, r: OrderRefund) {
  return {
    id: r.id, fullId: `${order.code}-R-${r.localId}`, localId: r.localId, state: r.state, source: r.source, amount: r.amount,
    currency: r.currency, provider: r.provider, paymentId: r.paymentId, comment: r.comment, createdAt: r.createdAt, executionDate: r.executionDate,
  };
}

function summaryJson(s: OrderSums) {
  return {
    paymentRefundSum: s.paymentRefundSum, pendingSum: s.pendingSum, isOverpaid: s.isOverpaid, isUnderpaid: s.isUnderpaid,
    isPendingWithFullPayment: s.isPendingWithFullPayment, hasExternalRefund: s.hasExternalRefund, hasPendingRefund: s.hasPendingRefund,
  };
}

/** The full order: positions, fees, payments, refunds and the derived sums. */
export async function orderJson(reads: OrderReadStore, order: Order, summary: OrderSums, providers: ProviderRegistry, paymentRefusal: PaymentRefusal | null = null) {
  const { positions, fees, payments, refunds } = await reads.parts(order.organizerId, order.id);
  return {
    id: order.id, code: order.code, eventId: order.eventId, status: order.status, email: order.email, locale: order.locale,
    total: order.total, currency: order.currency, testmode: order.testmode, expires: order.expires, createdAt: order.createdAt,
    summary: summaryJson(summary),
    positions: positions.map((p) => ({ id: p.id, positionNo: p.positionNo, productId: p.productId, price: p.price, attendeeName: p.attendeeName, canceled: p.canceled })),
    fees: fees.map((f) => ({ id: f.id, feeType: f.feeType, value: f.value, description: f.description, canceled: f.canceled })),
    payments: payments.map((p) => paymentJson(order, p, providers)),
    refunds: refunds.map((r) => refundJson(order, r)),
    paymentRefusal,
  };
}

export function eventJson(e: Event) {
  return {
    id: e.id, slug: e.slug, name: e.name, currency: e.currency, live: e.live,
    paymentTermDays: e.paymentTermDays, paymentTermAcceptLate: e.paymentTermAcceptLate, paymentTermLast: e.paymentTermLast,
  };
}
