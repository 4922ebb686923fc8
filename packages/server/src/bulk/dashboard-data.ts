import { attentionFigures, eventChart, MANUAL_PROVIDER, type EventChart } from '@kassa/core/host';
import type { AppDeps } from '../deps';

/** The figures the dashboard shows and the API serves; `failedInstalments`: instalments of payment plans waiting for the buyer. */
export async function dashboardFigures(deps: AppDeps, organizerId: string) {
  const [figures, failedInstalments] = await Promise.all([
    attentionFigures(deps.dataSource, organizerId, MANUAL_PROVIDER),
    deps.core.plans.countAwaitingBuyer(organizerId),
  ]);
  return { ...figures, failedInstalments };
}

/** An event's chart over the last `days` days up to now (null: not the organizer's event). */
export function chartData(deps: AppDeps, organizerId: string, eventId: string, days = 60): Promise<EventChart | null> {
  return eventChart(deps.dataSource, organizerId, eventId, deps.clock.now(), days);
}

export const chartSchema = {
  $id: 'EventChart',
  type: 'object',
  description: 'Orders and money per day of one event, days in the event\'s time zone; amounts in minor units of `currency`.',
  properties: {
    eventId: { type: 'string', format: 'uuid' },
    currency: { type: 'string' },
    timezone: { type: 'string' },
    days: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          day: { type: 'string', format: 'date' },
          paidOrders: { type: 'integer', description: 'Orders placed that day that are paid now' },
          pendingOrders: { type: 'integer', description: 'Orders placed that day still waiting for payment' },
          otherOrders: { type: 'integer', description: 'Orders placed that day that expired or were canceled' },
          revenue: { type: 'integer', description: 'Payments received that day' },
          refunded: { type: 'integer', description: 'Refunds made that day' },
        },
      },
    },
  },
} as const;
