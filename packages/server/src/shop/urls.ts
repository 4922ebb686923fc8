import { eventPageUrl, orderPageUrl } from '@kassa/core/host';

// The shop's paths as core's order links spell them (links/order-links.ts, the one place), here
// only adapted to the organizer and event rows the shop routes hold. Paths: no base URL.

/** The event's shop page, `/:organizer/:event/`. */
export function eventUrl(organizer: { slug: string }, event: { slug: string }): string {
  return eventPageUrl('', { organizerSlug: organizer.slug, eventSlug: event.slug });
}

/** The buyer's order page: the secret makes the link unguessable. */
export function orderUrl(organizer: { slug: string }, event: { slug: string }, order: { code: string; secret: string }): string {
  return orderPageUrl('', { organizerSlug: organizer.slug, eventSlug: event.slug, code: order.code, secret: order.secret });
}
