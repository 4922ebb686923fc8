import { randomUUID } from 'node:crypto';
import { KassaError, type Event } from '@kassa/core/host';
import type { Catalog } from './catalog';
import type { CartLine, CheckoutState } from './checkout-session';
import type { ShopContext } from './shop-context';

/*
 * The shop's side of cart reservations (core's CartService): adding to the cart holds the tickets
 * for the event's reservation time; every checkout step shows until when. The session keeps the
 * cart id and the hold's end, so a step within the hold costs no database read; a step after it
 * asks core to hold the cart again, and adjusts the cart when not all of it is left.
 */

/**
 * Holds `lines` for the buyer's cart (a new cart id for a new checkout) or throws the refusal the
 * event page shows: SHOP_NOT_ENOUGH_LEFT naming the first product short of tickets, or
 * ORDER_PRODUCT_UNAVAILABLE.
 */
export async function holdCart(
  shop: ShopContext, event: Event, catalog: Catalog, previous: CheckoutState | undefined, lines: CartLine[],
): Promise<Pick<CheckoutState, 'cartId' | 'heldUntil'>> {
  const cartId = previous?.cartId ?? randomUUID();
  const outcome = await shop.deps.core.carts.reserve({ eventId: event.id, cartId, lines });
  if (outcome.ok) return { cartId, heldUntil: outcome.hold.expires.toISOString() };
  if (outcome.reason === 'unavailable') throw new KassaError('ORDER_PRODUCT_UNAVAILABLE', { product: nameOf(catalog, outcome.product) });
  const short = lines.find((l) => (outcome.left.get(l.productId) ?? 0) < l.quantity) ?? lines[0]!;
  throw new KassaError('SHOP_NOT_ENOUGH_LEFT', {
    product: nameOf(catalog, short.productId), available: outcome.left.get(short.productId) ?? 0, requested: short.quantity,
  });
}

/** What a checkout step does about the hold: nothing (still held), go on with a renewed hold, or send the buyer back to an adjusted cart. */
export type HoldCheck =
  | { kind: 'held'; state: CheckoutState }
  | { kind: 'renewed'; state: CheckoutState }
  | { kind: 'adjusted'; state: CheckoutState | undefined; message: string };

/**
 * Checks the checkout's hold at a step. Within the hold: nothing is read. After it (or for a cart
 * that never had one): core holds the cart again if its tickets are still there; otherwise it holds
 * what is left, and the buyer is told and sent back to the event page to look at the cart.
 */
export async function checkHold(shop: ShopContext, event: Event, state: CheckoutState): Promise<HoldCheck> {
  const now = shop.deps.clock.now();
  if (state.cartId && state.heldUntil && new Date(state.heldUntil) > now) return { kind: 'held', state };
  const cartId = state.cartId ?? randomUUID();
  const { hold, adjusted } = await shop.deps.core.carts.reserveWhatFits({ eventId: event.id, cartId, lines: state.lines });
  const renewed = { ...state, cartId, heldUntil: hold.expires.toISOString() };
  if (!adjusted) return { kind: 'renewed', state: renewed };
  if (hold.lines.length === 0) {
    return { kind: 'adjusted', state: undefined, message: 'Your reservation ran out and the tickets in your cart are no longer available. Your cart is now empty.' };
  }
  // A changed cart changes the total: the payment method is chosen again, and a confirm page shown before no longer applies.
  return {
    kind: 'adjusted', state: { ...renewed, lines: hold.lines, payment: undefined, token: undefined },
    message: 'Your reservation ran out and not all of your tickets are still available. We kept what is left: please check your cart.',
  };
}

/** "held until" as the buyer reads it: the event's time zone and locale. */
export function heldUntilView(state: CheckoutState | undefined, event: Pick<Event, 'timezone' | 'locale'>): string | null {
  if (!state?.heldUntil) return null;
  const d = new Date(state.heldUntil);
  // Shown to the minute, and every hold of the same minute reads the same: formatted once per minute.
  const key = `${event.locale} ${event.timezone} ${Math.floor(d.getTime() / 60_000)}`;
  let shown = shownTimes.get(key);
  if (shown === undefined) {
    try {
      shown = timeFormat(event.locale, event.timezone).format(d);
    } catch {
      return d.toISOString();
    }
    if (shownTimes.size >= 1000) shownTimes.clear();
    shownTimes.set(key, shown);
  }
  return shown;
}

const shownTimes = new Map<string, string>();

// Building an Intl.DateTimeFormat costs far more than formatting with one: kept per locale and zone.
const timeFormats = new Map<string, Intl.DateTimeFormat>();

function timeFormat(locale: string, timeZone: string): Intl.DateTimeFormat {
  const key = `${locale} ${timeZone}`;
  let format = timeFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { timeStyle: 'short', timeZone });
    if (timeFormats.size >= 1000) timeFormats.clear();
    timeFormats.set(key, format);
  }
  return format;
}

function nameOf(catalog: Catalog, productId: string): string {
  return catalog.products.find((p) => p.id === productId)?.name ?? productId;
}
