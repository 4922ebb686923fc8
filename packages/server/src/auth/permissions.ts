import type { FastifyRequest } from 'fastify';
import { KassaError, hasPermission, isEventPermission, type EventPermission, type TeamPermission } from '@kassa/core/host';
import { uuidPattern, type OrganizerScope } from './scope';

/**
 * What a control-panel or API route needs, declared in its route config (`config.permission`):
 * a team permission, 'member' (any team of the organizer), 'operator' (an instance operator) or
 * 'public' (login, logout, invitation links). A list means any one of them. A route without a
 * declaration is refused (404): a forgotten declaration must never mean "open".
 */
export type RoutePermission = TeamPermission | 'member' | 'operator' | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: RoutePermission | readonly RoutePermission[];
    /**
     * An event-level permission on a route whose path names no event, order, payment or refund
     * holds only for teams with it on all events (plugin routes: the host cannot tell which event
     * the handler will touch).
     */
    permissionOnAllEvents?: boolean;
  }
}

/** The route's declared permissions, or undefined when it declares none. */
export function declaredPermissions(config: { permission?: RoutePermission | readonly RoutePermission[] } | undefined): readonly RoutePermission[] | undefined {
  const p = config?.permission;
  if (p === undefined) return undefined;
  return typeof p === 'string' ? [p] : p;
}

const notFound = () => new KassaError('NOT_FOUND', { entity: 'Page' });

/**
 * The event a request acts on, from its path parameters (event, order, payment, refund), loaded
 * within the user's organizer: another organizer's id is NOT_FOUND like a missing one. Null when
 * the path names none.
 */
async function eventOfRequest(req: FastifyRequest, organizerId: string, scope: OrganizerScope): Promise<string | null> {
  const params = (req.params ?? {}) as Record<string, string | undefined>;
  // Runs before the route's schema: a malformed id is bad input (400 naming it), as the schema would say.
  for (const name of ['eventId', 'orderId', 'paymentId', 'refundId'] as const) {
    const value = params[name];
    if (value !== undefined && !uuidPattern.test(value)) throw new KassaError('VALIDATION_FAILED', { detail: `params/${name} must be a UUID` });
  }
  if (params.eventId) return (await scope.event(organizerId, params.eventId)).id;
  if (params.orderId) return (await scope.order(organizerId, params.orderId)).eventId;
  if (params.paymentId) return (await scope.payment(organizerId, params.paymentId)).order.eventId;
  if (params.refundId) return (await scope.refund(organizerId, params.refundId)).order.eventId;
  const query = (req.query ?? {}) as Record<string, unknown>;
  if (typeof query.eventId === 'string' && query.eventId !== '') return (await scope.event(organizerId, query.eventId)).id;
  return null;
}

/**
 * The one check every control-panel route passes (control/index.ts, plugin routes): the signed-in
 * user must hold one of the route's permissions, an event-level one on the event the request acts
 * on. Anything else answers 404, worded like a missing page, so a page outside the user's rights
 * and another organizer's object look the same.
 */
export async function checkPermission(req: FastifyRequest, scope: OrganizerScope): Promise<void> {
  const config = req.routeOptions.config;
  const needed = declaredPermissions(config);
  if (!needed) throw notFound();
  if (needed.includes('public')) return;
  const user = req.kassaUser;
  if (!user) throw new KassaError('AUTH_REQUIRED');
  for (const p of needed) {
    if (p === 'operator') {
      if (user.isOperator) return;
      continue;
    }
    if (!user.organizerId) continue;
    if (p === 'member') return;
    if (!isEventPermission(p)) {
      if (p !== 'public' && hasPermission(user.permissions, p)) return;
      continue;
    }
    if (await holdsOnEvent(req, user.organizerId, user.permissions, p, scope, config.permissionOnAllEvents === true)) return;
  }
  throw notFound();
}

async function holdsOnEvent(
  req: FastifyRequest, organizerId: string, rights: NonNullable<FastifyRequest['kassaUser']>['permissions'], p: EventPermission, scope: OrganizerScope, allEvents: boolean,
): Promise<boolean> {
  const held = rights.events[p];
  if (held !== 'all' && held.size === 0) return false;
  // Loaded also for teams on all events: another organizer's id is NOT_FOUND here, before any handler.
  const eventId = await eventOfRequest(req, organizerId, scope);
  if (eventId) return held === 'all' || held.has(eventId);
  return held === 'all' || !allEvents;
}

/** The events a list may show for an event-level permission: undefined for all, else the ids. */
export function visibleEvents(req: FastifyRequest, p: EventPermission): string[] | undefined {
  const held = req.kassaUser?.permissions.events[p];
  if (!held || held === 'all') return undefined;
  return [...held];
}
