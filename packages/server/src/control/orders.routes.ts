import type { FastifyPluginAsync } from 'fastify';
import { CatalogStore, orderMachine, orderStates, type OrderStatus } from '@kassa/core/host';
import type { AppDeps } from '../deps';
import type { OrganizerScope } from '../auth/scope';
import { loadOrderDetail } from './order-detail';
import { idParams, renderPage, userOf, uuid } from './page';
import { visibleEvents } from '../auth/permissions';

interface ListQuery {
  q?: string;
  status?: OrderStatus;
  provider?: string;
  eventId?: string;
  overpaid?: '1';
  pendingRefund?: '1';
  externalRefund?: '1';
  page?: number;
}

const flag = { type: 'string', enum: ['1', ''] } as const;
const listQuery = {
  type: 'object',
  properties: {
    q: { type: 'string', maxLength: 200 },
    status: { type: 'string', enum: [...orderStates, ''] },
    provider: { type: 'string', maxLength: 64 },
    eventId: { anyOf: [uuid, { type: 'string', maxLength: 0 }] },
    overpaid: flag,
    pendingRefund: flag,
    externalRefund: flag,
    page: { type: 'integer', minimum: 1, maximum: 100000, default: 1 },
  },
  additionalProperties: false,
} as const;

export const pageSize = 25;

/** The order list (search and reconciliation filters, paginated) and the order page. */
export const orderRoutes: FastifyPluginAsync<{ deps: AppDeps; scope: OrganizerScope }> = async (app, { deps, scope }) => {
  const catalog = new CatalogStore(deps.dataSource);
  app.get<{ Querystring: ListQuery }>('/control/orders', { config: { permission: 'event.orders.view' }, schema: { querystring: listQuery } }, async (req, reply) => {
    const user = userOf(req);
    const q = req.query;
    const result = await deps.core.orders.search({
      organizerId: user.organizerId,
      q: q.q || undefined,
      status: q.status || undefined,
      provider: q.provider || undefined,
      eventId: q.eventId || undefined,
      eventIds: visibleEvents(req, 'event.orders.view'),
      overpaid: q.overpaid === '1' ? true : undefined,
      pendingRefund: q.pendingRefund === '1' ? true : undefined,
      externalRefund: q.externalRefund === '1' ? true : undefined,
      page: q.page ?? 1,
      pageSize,
    });
    const events = await catalog.eventNames(user.organizerId);
    const params = new URLSearchParams(Object.entries(q).filter(([k, v]) => k !== 'page' && v !== undefined && v !== '').map(([k, v]) => [k, String(v)]));
    const pages = Math.max(1, Math.ceil(result.total / pageSize));
    return renderPage(req, reply, 'orders', {
      title: 'Orders', section: 'orders', result, query: q, events, pages, statuses: orderStates,
      providers: deps.providers.list().map((p) => ({ id: p.identifier, name: p.verboseName })),
      pageLink: (n: number) => `/control/orders?${new URLSearchParams([...params, ['page', String(n)]]).toString()}`,
    });
  });

  app.get<{ Params: { orderId: string } }>('/control/orders/:orderId', { config: { permission: 'event.orders.view' }, schema: { params: idParams('orderId') } }, async (req, reply) => {
    const order = await scope.order(userOf(req).organizerId, req.params.orderId);
    const detail = await loadOrderDetail(deps, scope.reads, order);
    const minExtend = new Date(deps.clock.now().getTime() + 86_400_000).toISOString().slice(0, 16);
    // Why the order cannot be paid as it is (shown beside "mark as paid", whose force overrides it).
    const payRefusal = orderMachine.is('payable', order.status) ? await deps.core.orders.paymentRefusal(order.id, { owed: false }) : null;
    // One one-time key per rendering, carried by every form on the page (provider partials too):
    // the first action sent from this page uses it, the page shown after it brings a new one.
    const actionKey = await deps.core.actionKeys.issue({ organizerId: order.organizerId, orderId: order.id });
    const lastKnownRefundId = detail.refunds.at(-1)?.id ?? '';
    // What the order's state allows, asked of the order machine (the template compares no states).
    const can = {
      change: orderMachine.is('changeable', order.status), extend: orderMachine.can(order.status, 'extend'),
      markPaid: orderMachine.can(order.status, 'mark_paid'), cancel: orderMachine.can(order.status, 'cancel'),
      // An expired order is revived by an extension, which checks quota unless forced.
      revive: orderMachine.is('expired', order.status),
    };
    return renderPage(req, reply, 'order', { title: `Order ${order.code}`, section: 'orders', ...detail, minExtend, payRefusal, actionKey, lastKnownRefundId, can });
  });
};
