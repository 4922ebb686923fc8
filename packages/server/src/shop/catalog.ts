import { CatalogStore, KassaError, exactSum, money, type Clock, type CurrencyCode, type DataSource, type Event, type Money, type Organizer, type Product } from '@kassa/core/host';
import { remainingOf, type Availability } from './availability';
import type { CartLine } from './checkout-session';
import { ShortCache } from './short-cache';

/** The organizer and event behind a shop URL. */
export interface ShopEvent {
  organizer: Organizer;
  event: Event;
}

/** The products on sale for an event and what is left of each. */
export interface Catalog {
  products: Product[];
  availability: Availability;
  /** Products with nothing left only because other buyers hold them in their carts (they may come back). */
  reserved: ReadonlySet<string>;
}

/** A cart priced from the products as they are now: the only source of amounts in the shop. */
export interface PricedCart {
  currency: CurrencyCode;
  lines: { product: Product; quantity: number; unitPrice: Money; sum: Money }[];
  subtotal: Money;
}

/** Most tickets of one product in one order: a typo guard, not a business rule. */
export const maxQuantityPerProduct = 20;

/**
 * Reads what the shop pages show, through short caches: an event page view must not cost a
 * database round trip per visitor (bench/: thousands of views per second). Availability is
 * read at most once a second per event (from the quota counters; the binding check is under lock
 * when a cart is reserved or an order placed).
 */
export class CatalogReader {
  private readonly events = new ShortCache<ShopEvent | null>(5_000);
  private readonly catalogs = new ShortCache<Catalog>(1_000);

  private readonly store: CatalogStore;

  constructor(ds: DataSource, private readonly clock: Clock) {
    this.store = new CatalogStore(ds);
  }

  /** The event for `/:organizer/:event/`, or NOT_FOUND (also for events of another organizer). */
  async event(organizerSlug: string, eventSlug: string): Promise<ShopEvent> {
    const found = await this.events.get(`${organizerSlug}/${eventSlug}`, () => this.store.shopEvent(organizerSlug, eventSlug));
    if (!found) throw new KassaError('NOT_FOUND', { entity: 'Event' });
    return found;
  }

  /** Active products in display order, with their remaining availability. */
  catalog(eventId: string): Promise<Catalog> {
    return this.catalogs.get(eventId, async () => {
      const products = await this.store.activeProducts(eventId);
      const { left, reserved } = await this.store.availabilityDetail(eventId, this.clock.now());
      return { products, availability: left, reserved };
    });
  }
}

/**
 * Prices cart lines from the catalog. A product that is gone or inactive is refused with
 * ORDER_PRODUCT_UNAVAILABLE naming it; a line over the remaining quota with SHOP_NOT_ENOUGH_LEFT;
 * a cart whose total is beyond what Kassa stores exactly with SHOP_CART_TOO_LARGE, naming the
 * line that took it there (a buyer's words, not the money layer's; placeOrder would refuse it too).
 */
export function priceCart(event: Event, catalog: Catalog, lines: readonly CartLine[], opts: { checkAvailability: boolean }): PricedCart {
  const currency = event.currency as CurrencyCode;
  let subtotal = 0;
  const priced = lines.map((line) => {
    const product = catalog.products.find((p) => p.id === line.productId);
    if (!product) throw new KassaError('ORDER_PRODUCT_UNAVAILABLE', { product: line.productId });
    if (opts.checkAvailability) {
      const left = remainingOf(catalog.availability, product.id);
      if (left !== null && line.quantity > left) {
        throw new KassaError('SHOP_NOT_ENOUGH_LEFT', { product: product.name, available: left, requested: line.quantity });
      }
    }
    const unitPrice = money(product.price, currency);
    const sum = product.price * line.quantity;
    const next = Number.isSafeInteger(sum) ? exactSum(subtotal, sum) : null;
    if (next === null) {
      throw new KassaError('SHOP_CART_TOO_LARGE', { field: `qty_${product.id}`, product: product.name, quantity: line.quantity });
    }
    subtotal = next;
    return { product, quantity: line.quantity, unitPrice, sum: money(sum, currency) };
  });
  return { currency, lines: priced, subtotal: money(subtotal, currency) };
}
