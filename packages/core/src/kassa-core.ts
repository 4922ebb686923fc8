import { ActionKeyService } from './action-key/action-key.service';
import { CartService } from './cart/cart.service';
import { OrderService } from './order/order.service';
import type { CoreDeps, ServiceDeps } from './order/service-deps';
import { PaymentService } from './payment/payment.service';
import { createPersistence } from './persistence/kernel';
import { RefundService } from './refund/refund.service';
import { StoredMethodService } from './customer/stored-method.service';
import { PaymentPlanService } from './plan/payment-plan.service';
import { ChargeRunService } from './plan/charge-run.service';

/** The domain services of one Kassa instance. */
export interface KassaCore {
  readonly orders: OrderService;
  readonly payments: PaymentService;
  readonly refunds: RefundService;
  /** One-time keys of control-panel forms that move money (double and replayed submits). */
  readonly actionKeys: ActionKeyService;
  /** Customers and their stored payment methods (docs/payment-plans.md). */
  readonly storedMethods: StoredMethodService;
  /** Payment plans: orders paid in instalments. */
  readonly plans: PaymentPlanService;
  /** The charge run: charges due instalments off-session. */
  readonly chargeRuns: ChargeRunService;
  /** Cart reservations: tickets held for a buyer while they check out (pretix's cart positions). */
  readonly carts: CartService;
  /**
   * Closes what this instance holds besides the DataSource: the placement batcher stops taking
   * orders and settles the queued ones, the catalogue cache is dropped. Call it on shutdown before
   * destroying the DataSource; the DataSource itself stays the caller's.
   */
  close(): Promise<void>;
}

/**
 * Builds the order, payment and refund services over one data source, provider registry,
 * provider-context factory and clock, with their persistence state (placement batcher, catalogue
 * cache). Nothing is module-global: two instances (tests, tenants) never share state.
 */
export function createKassaCore(deps: ServiceDeps): KassaCore {
  const persistence = createPersistence(deps.dataSource, deps.clock);
  const core: CoreDeps = { ...deps, persistence };
  const payments = new PaymentService(core);
  // The refund service cancels orders when an external refund is processed with "cancel";
  // the order service is created right after, so the call goes through a late-bound reference.
  const late: { orders?: OrderService } = {};
  const refunds = new RefundService(core, {
    cancelOrder: (orderId, opts) => (late.orders as OrderService).cancelOrder(orderId, opts),
  });
  const orders = new OrderService(core, payments, refunds);
  late.orders = orders;
  const storedMethods = new StoredMethodService(core);
  const plans = new PaymentPlanService(core, payments);
  const chargeRuns = new ChargeRunService(core, payments, plans);
  return Object.freeze({ orders, payments, refunds, actionKeys: new ActionKeyService(deps), storedMethods, plans, chargeRuns, carts: new CartService(core), close: () => persistence.close() });
}
