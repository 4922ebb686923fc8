import type { Clock } from '../clock';
import type { Event } from '../event/event.entity';
import type { Money } from '../money/money';
import type { Order } from '../order/order.entity';
import type { OrderPayment } from '../payment/order-payment.entity';
import type { OrderRefund } from '../refund/order-refund.entity';
import type { ProviderCommonSettings } from './provider-settings';

/**
 * What a provider's executePayment reports. Expected outcomes are values, not exceptions:
 * core applies them to the payment row (confirm / pend / fail) under its own lock.
 */
export type PaymentOutcome =
  | { kind: 'confirmed'; info?: Record<string, unknown> }
  | { kind: 'pending'; info?: Record<string, unknown> }
  | { kind: 'requires_action'; redirectUrl: string; info?: Record<string, unknown> }
  | { kind: 'declined'; message: string; code?: string; info?: Record<string, unknown> }
  | { kind: 'failed'; message: string; code?: string; info?: Record<string, unknown> };

/** What a provider's executeRefund reports. */
export type RefundOutcome =
  | { kind: 'done'; externalId?: string; info?: Record<string, unknown> }
  | { kind: 'transit'; externalId?: string; info?: Record<string, unknown> }
  | { kind: 'failed'; message: string; code?: string; info?: Record<string, unknown> };

/** A render hook's result: the plugin's Eta partial and the data it renders. */
export interface ViewModel {
  /** Partial name, resolved by the server against the plugin's views folder, e.g. "stripe/checkout". */
  partial: string;
  data: Record<string, unknown>;
}

/** The data a provider sees for one call: the event, its merged settings, time. */
export interface ProviderContext<Settings extends object = Record<string, unknown>> {
  readonly event: Event;
  readonly settings: Settings;
  readonly clock: Clock;
  /** Absolute base URL of the Kassa instance (for return URLs), without trailing slash. */
  readonly baseUrl: string;
  /**
   * The framework-level settings (enabled, fees, availability window, min/max total, countries),
   * resolved for this event. Always set by core's context factory; a hand-built context without it
   * is treated as carrying the defaults (see checkAvailability).
   */
  readonly common?: ProviderCommonSettings;
}

/** Checkout-time facts for isAllowed(): the total excludes this provider's own fee. */
export interface AvailabilityQuery {
  total: Money;
  /** ISO 3166-1 alpha-2 country of the buyer's address, when known. */
  country?: string;
  now: Date;
}

export interface PaymentCallInput {
  order: Order;
  payment: OrderPayment;
}

export interface RefundCallInput {
  order: Order;
  payment: OrderPayment | null;
  refund: OrderRefund;
}
