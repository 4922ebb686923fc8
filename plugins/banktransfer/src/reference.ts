/**
 * The payment reference a buyer writes on the transfer: the event slug in upper case, a dash and the
 * order code, as pretix's `Order.full_code` ("DEMO-ABC12"). The slug tells the organizer's bank
 * statement which event a transfer is for; matching also finds the bare code (src/matching/).
 */
export function orderReference(eventSlug: string, orderCode: string): string {
  return `${eventSlug.toUpperCase()}-${orderCode.toUpperCase()}`;
}
