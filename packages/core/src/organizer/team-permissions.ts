/**
 * Team permissions, after pretix's: organizer-level ones hold for the whole organizer, event-level
 * ones for all its events or for the team's chosen events. A user's rights are the union over
 * their teams. The database columns are named as pretix names them (`can_change_teams`, …).
 */
export const organizerPermissions = ['organizer.teams', 'organizer.settings', 'organizer.events.create'] as const;
export const eventPermissions = ['event.settings', 'event.orders.view', 'event.orders.change'] as const;

export type OrganizerPermission = (typeof organizerPermissions)[number];
export type EventPermission = (typeof eventPermissions)[number];
/** One permission a team can grant. */
export type TeamPermission = OrganizerPermission | EventPermission;

/** The team column behind each permission. */
export const permissionColumns: Readonly<Record<TeamPermission, string>> = {
  'organizer.teams': 'can_change_teams',
  'organizer.settings': 'can_change_organizer_settings',
  'organizer.events.create': 'can_create_events',
  'event.settings': 'can_change_event_settings',
  'event.orders.view': 'can_view_orders',
  'event.orders.change': 'can_change_orders',
};

/** How the control panel names each permission. */
export const permissionLabels: Readonly<Record<TeamPermission, string>> = {
  'organizer.teams': 'Can change teams and permissions',
  'organizer.settings': 'Can change organizer settings (payment providers, API tokens, jobs)',
  'organizer.events.create': 'Can create events',
  'event.settings': 'Can change event settings (event, products, quotas)',
  'event.orders.view': 'Can view orders',
  'event.orders.change': 'Can change orders (payments, refunds, cancellations)',
};

export const teamPermissions: readonly TeamPermission[] = [...organizerPermissions, ...eventPermissions];

export function isEventPermission(p: string): p is EventPermission {
  return (eventPermissions as readonly string[]).includes(p);
}

/**
 * A user's rights in one organizer: the organizer-level permissions, and per event-level
 * permission either every event ('all') or the ids of the events it holds for.
 */
export interface UserPermissions {
  readonly organizer: ReadonlySet<OrganizerPermission>;
  readonly events: Readonly<Record<EventPermission, 'all' | ReadonlySet<string>>>;
}

/** Whether the rights hold the permission (for an event-level one: on `eventId`, or on at least one event when none is given). */
export function hasPermission(rights: UserPermissions, permission: TeamPermission, eventId?: string): boolean {
  if (!isEventPermission(permission)) return rights.organizer.has(permission as OrganizerPermission);
  const scope = rights.events[permission];
  if (scope === 'all') return true;
  return eventId === undefined ? scope.size > 0 : scope.has(eventId);
}

/** No rights at all (an operator outside any team). */
export const noPermissions: UserPermissions = {
  organizer: new Set(),
  events: { 'event.settings': new Set(), 'event.orders.view': new Set(), 'event.orders.change': new Set() },
};
