/**
 * Links in emails. The shop's routes are the server's; these follow its pretix-style paths and
 * are the one place to change if they move.
 */
export interface OrderLinkInput {
  organizerSlug: string;
  eventSlug: string;
  code: string;
  secret: string;
}

export function orderUrl(publicUrl: string, o: OrderLinkInput): string {
  return `${publicUrl}/${enc(o.organizerSlug)}/${enc(o.eventSlug)}/order/${enc(o.code)}/${enc(o.secret)}/`;
}

export function controlOrderUrl(publicUrl: string, o: Omit<OrderLinkInput, 'secret'>): string {
  return `${publicUrl}/control/event/${enc(o.organizerSlug)}/${enc(o.eventSlug)}/orders/${enc(o.code)}/`;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}
