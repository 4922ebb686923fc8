import type { Event } from '../event/event.entity';
import type { Product } from '../event/product.entity';

/** An event and the products of it read so far. */
export interface Catalogue {
  event: Event;
  products: Map<string, Product>;
}

const TTL_MS = 10_000;
const MAX_EVENTS = 1_000;

/**
 * What placeOrder last read of an event and its products, to price the next order without a read.
 * Never trusted for money: the one-statement placement checks every price, product and event
 * field it used against the tables in the same statement that writes the order, and a mismatch
 * writes nothing and makes placeOrder read afresh and price again (placement-batch.ts). So
 * the time to live only bounds how often that retry happens after an organizer's change.
 * One cache per core instance (createKassaCore makes it, as part of the persistence kernel).
 */
export class CatalogueCache {
  private readonly entries = new Map<string, { catalogue: Catalogue; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The cached catalogue when it holds every product in `productIds` and is young enough. */
  get(eventId: string, productIds: readonly string[]): Catalogue | null {
    const entry = this.entries.get(eventId);
    if (!entry || this.now() - entry.at > TTL_MS) return null;
    return productIds.every((id) => entry.catalogue.products.has(id)) ? entry.catalogue : null;
  }

  /** Stores a catalogue just read, keeping products read earlier for the same event. */
  put(catalogue: Catalogue): void {
    const earlier = this.entries.get(catalogue.event.id);
    const products = earlier ? new Map([...earlier.catalogue.products, ...catalogue.products]) : catalogue.products;
    this.entries.delete(catalogue.event.id);
    this.entries.set(catalogue.event.id, { catalogue: { event: catalogue.event, products }, at: this.now() });
    if (this.entries.size > MAX_EVENTS) this.entries.delete(this.entries.keys().next().value as string);
  }

  drop(eventId: string): void {
    this.entries.delete(eventId);
  }

  clear(): void {
    this.entries.clear();
  }
}
