import { ActionKeyService } from './action-key/action-key.service';
import { OrderService } from './order/order.service';
import type { ServiceDeps } from './order/service-deps';
import { PaymentService } from './payment/payment.service';
import { RefundService } from './refund/refund.service';

/** The domain services of one Kassa instance. */
export interface KassaCore {
  readonly orders: OrderService;
  readonly payments: PaymentService;
  readonly refunds: RefundService;
  /** One-time keys of control-panel forms that move money (double and replayed submits). */
  readonly actionKeys: ActionKeyService;
}

/**
 * Builds the order, payment and refund services over one data source, provider registry,
 * provider-context factory and clock. Nothing is module-global: two instances (tests, tenants)
 * never share state.
 */
export function createKassaCore(deps: ServiceDeps): KassaCore {
  const payments = new PaymentService(deps);
  // The refund service cancels orders when an external refund is processed with "cancel";
  // the order service is created right after, so the call goes through a late-bound reference.
  const late: { orders?: OrderService } = {};
  const refunds = new RefundService(deps, {
    cancelOrder: (orderId, opts) => (late.orders as OrderService).cancelOrder(orderId, opts),
  });
  const orders = new OrderService(deps, payments, refunds);
  late.orders = orders;
  return Object.freeze({ orders, payments, refunds, actionKeys: new ActionKeyService(deps) });
}
