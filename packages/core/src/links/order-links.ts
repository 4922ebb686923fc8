/**
 * The URLs of the shop and the control panel that other parts link to (emails, plugins' return
 * pages, redirects): spelled here once, for pretix-style paths. The server's routes match them.
 * `base` is an absolute base URL without trailing slash, or '' for a path.
 */
export interface OrderLinkInput {
  readonly organizerSlug: string;
  readonly eventSlug: string;
  readonly code: string;
  readonly secret: string;
}

/** The event's shop page. */
export function eventPageUrl(base: string, o: Pick<OrderLinkInput, 'organizerSlug' | 'eventSlug'>): string {
  return `${base}/${enc(o.organizerSlug)}/${enc(o.eventSlug)}/`;
}

/** The buyer's order page: the secret makes the link unguessable. */
export function orderPageUrl(base: string, o: OrderLinkInput): string {
  return `${eventPageUrl(base, o)}order/${enc(o.code)}/${enc(o.secret)}/`;
}

/** The order in the organizer's control panel. */
export function controlOrderUrl(base: string, o: Omit<OrderLinkInput, 'secret'>): string {
  return `${base}/control/event/${enc(o.organizerSlug)}/${enc(o.eventSlug)}/orders/${enc(o.code)}/`;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}
