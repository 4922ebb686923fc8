import type { FastifyRequest } from 'fastify';
import { KassaError, eventPermissions, hasPermission, isEventPermission, type EventPermission, type TeamPermission, type UserPermissions } from '@kassa/core/host';
import type { TokenPrincipal } from './api-token';
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
  if (needed.includes('operator') && user.isOperator) return;
  if (!user.organizerId) throw notFound();
  if (await holdsAny(req, needed, user.organizerId, user.permissions, scope, config.permissionOnAllEvents === true)) return;
  throw notFound();
}

/**
 * The same check for an API token (api/index.ts): the token holds what it was created with (team
 * permissions on all events or on chosen ones). A token limited to chosen events also sees no
 * other event, whatever the route's permission: a path naming another event, or its order, payment
 * or refund, is NOT_FOUND.
 */
export async function checkTokenPermission(req: FastifyRequest, token: TokenPrincipal, scope: OrganizerScope): Promise<void> {
  const config = req.routeOptions.config;
  const needed = declaredPermissions(config);
  if (!needed) throw notFound();
  if (needed.includes('public')) return;
  if (!(await holdsAny(req, needed, token.organizerId, token.permissions, scope, config.permissionOnAllEvents === true))) throw notFound();
  const events = tokenEvents(token.permissions);
  if (events === 'all') return;
  const eventId = await eventOfRequest(req, token.organizerId, scope);
  if (eventId && !events.has(eventId)) throw notFound();
}

/** The events a token's event permissions hold on (the same for each: a token has one event choice). */
function tokenEvents(rights: UserPermissions): 'all' | ReadonlySet<string> {
  const held = eventPermissions.map((p) => rights.events[p]);
  if (held.includes('all')) return 'all';
  return new Set(held.flatMap((s) => [...(s as ReadonlySet<string>)]));
}

async function holdsAny(
  req: FastifyRequest, needed: readonly RoutePermission[], organizerId: string, rights: UserPermissions, scope: OrganizerScope, allEvents: boolean,
): Promise<boolean> {
  for (const p of needed) {
    if (p === 'operator' || p === 'public') continue;
    if (p === 'member') return true;
    if (!isEventPermission(p)) {
      if (hasPermission(rights, p)) return true;
      continue;
    }
    if (await holdsOnEvent(req, organizerId, rights, p, scope, allEvents)) return true;
  }
  return false;
}

async function holdsOnEvent(
  req: FastifyRequest, organizerId: string, rights: UserPermissions, p: EventPermission, scope: OrganizerScope, allEvents: boolean,
): Promise<boolean> {
  const held = rights.events[p];
  if (held !== 'all' && held.size === 0) return false;
  // Loaded also for teams on all events: another organizer's id is NOT_FOUND here, before any handler.
  const eventId = await eventOfRequest(req, organizerId, scope);
  if (eventId) return held === 'all' || held.has(eventId);
  return held === 'all' || !allEvents;
}

/** The events a list may show for an event-level permission (of the user, or the API token): undefined for all, else the ids. */
export function visibleEvents(req: FastifyRequest, p: EventPermission): string[] | undefined {
  const held = (req.kassaUser ?? req.apiPrincipal)?.permissions.events[p];
  if (!held || held === 'all') return undefined;
  return [...held];
}

/** The events an API token sees at all (lists of events): undefined for all, else the ids. */
export function tokenVisibleEvents(token: TokenPrincipal): string[] | undefined {
  const events = tokenEvents(token.permissions);
  return events === 'all' ? undefined : [...events];
}
