import {
  Event, LogEntry, OrderFee, OrderPayment, OrderPosition, OrderRefund, Product, type DataSource, type Order, type OrderSums, type ViewModel,
} from '@kassa/core/host';
import type { AppDeps } from '../deps';

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
  refunds: (OrderRefund & { label: string })[];
  log: LogEntry[];
}

/**
 * Everything the order page shows, read outside any transaction. Provider render hooks
 * (paymentControlRender) are called here, after the reads, never inside a transaction.
 */
export async function loadOrderDetail(deps: AppDeps, order: Order): Promise<OrderDetail> {
  const ds: DataSource = deps.dataSource;
  const [event, summary, positions, fees, payments, refunds, log] = await Promise.all([
    ds.getRepository(Event).findOneByOrFail({ id: order.eventId }),
    deps.core.orders.getSummary(order.id),
    ds.getRepository(OrderPosition).find({ where: { orderId: order.id }, order: { positionNo: 'ASC' } }),
    ds.getRepository(OrderFee).find({ where: { orderId: order.id } }),
    ds.getRepository(OrderPayment).find({ where: { orderId: order.id }, order: { localId: 'ASC' } }),
    ds.getRepository(OrderRefund).find({ where: { orderId: order.id }, order: { localId: 'ASC' } }),
    ds.getRepository(LogEntry).find({ where: { orderId: order.id }, order: { id: 'DESC' }, take: 100 }),
  ]);
  const productIds = [...new Set(positions.map((p) => p.productId))];
  const products = productIds.length ? await ds.getRepository(Product).findBy(productIds.map((id) => ({ id }))) : [];
  const productName = new Map(products.map((p) => [p.id, p.name]));

  const paymentRows: PaymentRow[] = [];
  for (const payment of payments) {
    const refunded = refunds
      .filter((r) => r.paymentId === payment.id && ['created', 'transit', 'done'].includes(r.state))
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
      refundable: payment.state === 'confirmed' ? Math.max(0, payment.amount - refunded) : 0,
      automaticRefund: provider?.paymentRefundSupported(payment) ?? false,
      partialRefund: provider?.paymentPartialRefundSupported(payment) ?? false,
      control,
      canConfirm: payment.state === 'created' || payment.state === 'pending',
      canCancel: payment.state === 'created' || (payment.state === 'pending' && (provider?.abortPendingAllowed ?? false)),
    });
  }
  return {
    order, event, summary, fees, log,
    positions: positions.map((p) => Object.assign(p, { productName: productName.get(p.productId) ?? '—' })),
    payments: paymentRows,
    refunds: refunds.map((r) => Object.assign(r, { label: `${order.code}-R-${r.localId}` })),
  };
}
