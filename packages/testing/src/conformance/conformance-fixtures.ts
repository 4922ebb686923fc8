import { Event, Order, OrderPayment, systemClock, toCommonSettings, type ProviderContext } from '@kassa/core/host';

/** In-memory entities for calling a provider outside the database, as core would after loading them. */
export function sampleEvent(currency: string): Event {
  return Object.assign(new Event(), {
    id: '00000000-0000-4000-8000-0000000000e1', organizerId: '00000000-0000-4000-8000-0000000000a1', slug: 'conformance',
    name: 'Conformance Event', currency, timezone: 'Europe/Berlin', locale: 'en', paymentTermDays: 14, paymentTermAcceptLate: true,
    live: false, createdAt: new Date('2026-01-01T00:00:00Z'),
  });
}

export function sampleOrder(event: Event, total: number): Order {
  return Object.assign(new Order(), {
    id: '00000000-0000-4000-8000-0000000000b1', organizerId: event.organizerId, eventId: event.id, code: 'CONF1', secret: 'conformance-secret',
    email: 'buyer@example.org', locale: 'en', total, currency: event.currency, status: 'pending', expires: new Date('2030-01-01T00:00:00Z'),
    testmode: true, cancellationDate: null, shreddedAt: null, createdAt: new Date('2026-01-01T00:00:00Z'), updatedAt: new Date('2026-01-01T00:00:00Z'),
  });
}

export function samplePayment(order: Order, provider: string, overrides: Partial<OrderPayment> = {}): OrderPayment {
  return Object.assign(new OrderPayment(), {
    id: '00000000-0000-4000-8000-0000000000c1', orderId: order.id, localId: 1, state: 'created', amount: order.total, currency: order.currency,
    provider, info: {}, feeId: null, processInitiated: true, createdAt: new Date('2026-01-01T00:00:00Z'), paymentDate: null,
    ...overrides,
  });
}

/** A context like the one core's factory builds (settings resolved, framework settings typed). */
export function sampleContext(event: Event, settings: Record<string, unknown>, common: Record<string, unknown>, enabledByDefault: boolean): ProviderContext {
  return Object.freeze({
    event, settings: Object.freeze({ ...settings }), common: toCommonSettings(common, enabledByDefault), clock: systemClock,
    baseUrl: 'http://127.0.0.1:3000',
  });
}
