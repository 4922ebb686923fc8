/** The shop's URLs, spelled in one place. Slugs and codes are URL-safe by their patterns. */
export function eventUrl(organizer: { slug: string }, event: { slug: string }): string {
  return `/${organizer.slug}/${event.slug}/`;
}

/** The buyer's order page: the secret makes the link unguessable. */
export function orderUrl(organizer: { slug: string }, event: { slug: string }, order: { code: string; secret: string }): string {
  return `${eventUrl(organizer, event)}order/${order.code}/${order.secret}/`;
}
