import {
  paymentMachine, readableOrderLog, refundMachine, type Event, type LogLocale, type ReadableLogEntry, type Order, type OrderFee, type OrderPayment, type OrderPosition,
  type OrderReadStore, type OrderRefund, type OrderSums, type ViewModel,
} from '@kassa/core/host';
import type { AppDeps } from '../deps';
import { providerName } from '../infra/readable-log';

export { logLocaleOf } from '../infra/readable-log';

export interface PaymentRow {
  payment: OrderPayment;
  label: string;
  providerName: string;
  /** Still refundable: amount minus refunds created, in transit or done. */
  refundable: number;
  automaticRefund: boolean;
  partialRefund: boolean;
  control: ViewModel | null;
  canConfirm: boolean;
  canCancel: boolean;
}

export interface OrderDetail {
  order: Order;
  event: Event;
  summary: OrderSums;
  positions: (OrderPosition & { productName: string })[];
  fees: OrderFee[];
  payments: PaymentRow[];
  /** With what the organizer may do with each refund, asked of the refund machine. */
  refunds: (OrderRefund & { label: string; canProcess: boolean; canRetry: boolean; canMarkDone: boolean })[];
  /** Newest first, each with its sentence in the viewer's language (the code stays beside it). */
  log: ReadableLogEntry[];
}

/**
 * Everything the order page shows, read outside any transaction. Provider render hooks
 * (paymentControlRender) are called here, after the reads, never inside a transaction.
 */
export async function loadOrderDetail(deps: AppDeps, reads: OrderReadStore, order: Order, locale: LogLocale = 'en'): Promise<OrderDetail> {
  const [event, summary, { positions, fees, payments, refunds }, log] = await Promise.all([
    reads.event(order.organizerId, order.eventId),
    deps.core.orders.getSummary(order.id),
    reads.parts(order.organizerId, order.id),
    readableOrderLog(deps.dataSource, {
      organizerId: order.organizerId, orderId: order.id, locale, sentences: deps.logSentences, providerName: (id) => providerName(deps, id), limit: 100,
    }),
  ]);
  if (!event) throw new Error(`Order ${order.id} has no event of its organizer`);
  const productName = await reads.productNames(order.organizerId, positions.map((p) => p.productId));

  const paymentRows: PaymentRow[] = [];
  for (const payment of payments) {
    const refunded = refunds
      .filter((r) => r.paymentId === payment.id && refundMachine.is('counting', r.state))
      .reduce((acc, r) => acc + r.amount, 0);
    const provider = deps.providers.has(payment.provider) ? deps.providers.get(payment.provider) : null;
    let control: ViewModel | null = null;
    if (provider) {
      try {
        control = provider.paymentControlRender(await deps.providerContext(event, payment.provider), { order, payment });
      } catch {
        control = null; // A provider's rendering problem must not hide the order from the organizer.
      }
    }
    paymentRows.push({
      payment,
      label: `${order.code}-P-${payment.localId}`,
      providerName: provider?.verboseName ?? payment.provider,
      refundable: paymentMachine.is('refundable', payment.state) ? Math.max(0, payment.amount - refunded) : 0,
      automaticRefund: provider?.paymentRefundSupported(payment) ?? false,
      partialRefund: provider?.paymentPartialRefundSupported(payment) ?? false,
      control,
      canConfirm: paymentMachine.is('open', payment.state),
      canCancel: paymentMachine.is('executable', payment.state) || (paymentMachine.is('inTransit', payment.state) && (provider?.abortPendingAllowed ?? false)),
    });
  }
  return {
    order, event, summary, fees, log,
    positions: positions.map((p) => Object.assign(p, { productName: productName.get(p.productId) ?? '—' })),
    payments: paymentRows,
    refunds: refunds.map((r) => Object.assign(r, {
      label: `${order.code}-R-${r.localId}`,
      canProcess: refundMachine.is('awaitingDecision', r.state),
      canRetry: refundMachine.is('retryable', r.state),
      // Only a manual refund is marked done by hand; a provider's reports its own outcome.
      canMarkDone: r.provider === 'manual' && refundMachine.can(r.state, 'done'),
    })),
  };
}

