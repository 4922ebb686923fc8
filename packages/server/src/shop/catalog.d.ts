import { Event, Organizer, Product, type DataSource, type Money, type CurrencyCode } from '@kassa/core';
import { type Availability } from './availability';
import type { CartLine } from './checkout-session';
/** The organizer and event behind a shop URL. */
export interface ShopEvent {
    organizer: Organizer;
    event: Event;
}
/** The products on sale for an event and what is left of each. */
export interface Catalog {
    products: Product[];
    availability: Availability;
}
/** A cart priced from the products as they are now: the only source of amounts in the shop. */
export interface PricedCart {
    currency: CurrencyCode;
    lines: {
        product: Product;
        quantity: number;
        unitPrice: Money;
        sum: Money;
    }[];
    subtotal: Money;
}
/** Most tickets of one product in one order: a typo guard, not a business rule. */
export declare const maxQuantityPerProduct = 20;
/**
 * Reads what the shop pages show, through short caches: an event page view must not cost a
 * database round trip per visitor (bench/: thousands of views per second). Placing an order
 * invalidates its event's catalog in this process.
 */
export declare class CatalogReader {
    private readonly ds;
    private readonly events;
    private readonly catalogs;
    constructor(ds: DataSource);
    /** The event for `/:organizer/:event/`, or NOT_FOUND (also for events of another organizer). */
    event(organizerSlug: string, eventSlug: string): Promise<ShopEvent>;
    /** Active products in display order, with their remaining availability. */
    catalog(eventId: string): Promise<Catalog>;
    /** A fresh (uncached) catalog: used before refusing or accepting a cart. */
    freshCatalog(eventId: string): Promise<Catalog>;
    invalidate(eventId: string): void;
}
/**
 * Prices cart lines from the catalog. A product that is gone or inactive is refused with
 * ORDER_PRODUCT_UNAVAILABLE naming it; a line over the remaining quota with SHOP_NOT_ENOUGH_LEFT.
 */
export declare function priceCart(event: Event, catalog: Catalog, lines: readonly CartLine[], opts: {
    checkAvailability: boolean;
}): PricedCart;
