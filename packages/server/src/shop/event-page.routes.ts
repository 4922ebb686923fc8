import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { formatMoney, KassaError, money } from '@kassa/core/host';
import { remainingOf } from './availability';
import { maxQuantityPerProduct, priceCart, type ShopEvent } from './catalog';
import { assertCheckoutFits, liveCheckout, readCheckout, writeCheckout, type CartLine } from './checkout-session';
import { holdCart } from './cart-hold';
import { asRefusal, errorView } from './html-refusal';
import { cartBody, eventParams, type CartBody, type EventParams } from './schemas';
import type { ShopContext } from './shop-context';
import { ShortCache } from './short-cache';
import { eventUrl } from './urls';
import { takeBuyerFlash } from '../infra/buyer-session';

/** A cart id's size, for measuring the cookie before the cart has one. */
const sizeOfCartId = '00000000-0000-0000-0000-000000000000';

const qtyKey = /^qty_(.+)$/;

/** The event page (products, prices, what is left) and the cart form behind it. */
export const eventPageRoutes: FastifyPluginAsync<{ shop: ShopContext }> = async (app, { shop }) => {
  // The page of a visitor without a cart is the same for everyone: rendered once per event per
  // second (the catalog's own cache period), it costs a lookup instead of a template run.
  const anonymousPages = new ShortCache<string>(1_000);

  async function eventModel(
    where: ShopEvent, inCart: ReadonlyMap<string, number>, error?: KassaError, posted?: Record<string, number>, ownHold = false,
  ) {
    const { organizer, event } = where;
    const catalog = await shop.catalog.catalog(event.id);
    const locale = event.locale;
    const products = catalog.products.map((p) => {
      const left = remainingOf(catalog.availability, p.id);
      // The buyer's own held tickets are theirs: shown as available to them, not as taken.
      const own = ownHold ? inCart.get(p.id) ?? 0 : 0;
      const available = left === null ? null : left + own;
      return {
        id: p.id,
        name: p.name,
        price: formatMoney(money(p.price, event.currency), locale),
        available,
        soldOut: available === 0,
        // Gone only into other buyers' carts: pretix's "reserved", which may come back when they run out.
        reserved: available === 0 && catalog.reserved.has(p.id),
        maxQuantity: Math.min(maxQuantityPerProduct, available ?? maxQuantityPerProduct),
        quantity: posted?.[p.id] ?? inCart.get(p.id) ?? 0,
      };
    });
    return {
      locale, organizer: { name: organizer.name }, event: { name: event.name, live: event.live }, eventUrl: eventUrl(organizer, event),
      products, error: errorView(error),
    };
  }

  async function renderEvent(req: FastifyRequest, reply: FastifyReply, where: ShopEvent, error?: KassaError, posted?: Record<string, number>) {
    const checkout = await liveCheckout(req, where.event.id, (eventId, key) => shop.placedWithKey(eventId, key));
    const inCart = new Map((checkout?.lines ?? []).map((l) => [l.productId, l.quantity]));
    const ownHold = checkout?.heldUntil !== undefined && new Date(checkout.heldUntil) > shop.deps.clock.now();
    const flash = takeBuyerFlash(req);
    if (error) reply.status(error.status);
    return reply.view('shop/event', { ...await eventModel(where, inCart, error, posted, ownHold), flash });
  }

  app.get<{ Params: EventParams }>('/:organizer/:event/', { schema: { params: eventParams } }, async (req, reply) => {
    const where = await shop.catalog.event(req.params.organizer, req.params.event);
    if (readCheckout(req, where.event.id) || req.buyer.data.flash) return renderEvent(req, reply, where);
    const html = await anonymousPages.get(where.event.id, async () => app.view('shop/event', await eventModel(where, new Map())));
    return reply.type('text/html; charset=utf-8').send(html);
  });

  app.post<{ Params: EventParams; Body: CartBody }>('/:organizer/:event/cart', {
    schema: { params: eventParams, body: cartBody },
    attachValidation: true,
    // The event page is served to anonymous visitors from a cache shared by all of them, so it
    // carries no CSRF token. The buyer's cookie is SameSite=Lax, so a cross-site form cannot post
    // into a buyer's cart anyway, and every later step is CSRF-checked.
    config: { csrf: false },
  }, async (req, reply) => {
    const where = await shop.catalog.event(req.params.organizer, req.params.event);
    if (req.validationError) return renderEvent(req, reply, where, asRefusal(req, req.validationError));
    const lines: CartLine[] = [];
    const posted: Record<string, number> = {};
    for (const [key, value] of Object.entries(req.body ?? {})) {
      const m = qtyKey.exec(key);
      if (!m || typeof value !== 'number') continue;
      posted[m[1]!] = value;
      if (value > 0) lines.push({ productId: m[1]!, quantity: value });
    }
    // A checkout that may have been confirmed already is looked up first (one indexed read, only for
    // a cart changed after its payment step): a placed one is not continued, so the new cart gets a
    // new cart id and hold and, with them, a new confirm token (a second order, not the first again).
    const previous = await liveCheckout(req, where.event.id, (eventId, key) => shop.placedWithKey(eventId, key));
    try {
      if (!where.event.live) throw new KassaError('SHOP_NOT_ON_SALE');
      if (lines.length === 0) throw new KassaError('SHOP_CART_EMPTY');
      const catalog = await shop.catalog.catalog(where.event.id);
      priceCart(where.event, catalog, lines, { checkAvailability: false });
      // Adding to the cart holds the tickets (core's check under the quota lock; the page's
      // availability is up to a second old and counts this buyer's own earlier hold as taken).
      // The cookie must have room for the cart (a cart id and an expiry included) before anything is held.
      assertCheckoutFits(req, where.event.id, { lines, email: previous?.email, cartId: sizeOfCartId, heldUntil: new Date(0).toISOString() });
      const hold = await holdCart(shop, where.event, catalog, previous, lines);
      // A new cart keeps the email but not the payment choice: the fee depends on the total.
      writeCheckout(req, where.event.id, { lines, email: previous?.email, ...hold });
    } catch (err) {
      return renderEvent(req, reply, where, asRefusal(req, err), posted);
    }
    return reply.redirect(`${eventUrl(where.organizer, where.event)}checkout/contact`, 303);
  });
};
