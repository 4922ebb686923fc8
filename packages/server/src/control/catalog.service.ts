import { CatalogStore, KassaError, assertEnteredAmount, isCurrencyCode, type DataSource, type Event, type Product, type Quota } from '@kassa/core/host';

export interface EventInput {
  name: string;
  slug: string;
  currency: string;
  paymentTermDays: number;
  /** A payment after expiry may revive the order while quota allows. */
  paymentTermAcceptLate: boolean;
  /** Last date of payments (pretix's payment_term_last); null: none. */
  paymentTermLast: Date | null;
  live: boolean;
  /** Minutes a buyer's cart holds the tickets (1 to 10,080; pretix's default: 30). */
  reservationMinutes?: number;
}

export interface ProductInput {
  name: string;
  /** Minor units of the event currency. */
  price: number;
  active: boolean;
  position: number;
}

export interface QuotaInput {
  name: string;
  /** null: unlimited. */
  size: number | null;
  productIds: string[];
}

/**
 * Events, products and quotas of one organizer: the form rules here, the reads and writes in
 * core's CatalogStore. Every lookup is scoped by organizer: another organizer's object is
 * NOT_FOUND, exactly like one that does not exist.
 */
export class CatalogService {
  private readonly store: CatalogStore;

  constructor(dataSource: DataSource) {
    this.store = new CatalogStore(dataSource);
  }

  listEvents(organizerId: string): Promise<Event[]> {
    return this.store.listEvents(organizerId);
  }

  async getEvent(organizerId: string, eventId: string): Promise<Event> {
    const event = await this.store.event(organizerId, eventId);
    if (!event) throw new KassaError('NOT_FOUND', { entity: 'Event' });
    return event;
  }

  async createEvent(organizerId: string, input: EventInput): Promise<Event> {
    this.checkEvent(input);
    await this.assertSlugFree(organizerId, input.slug);
    return this.store.createEvent(organizerId, input);
  }

  async updateEvent(organizerId: string, eventId: string, input: EventInput): Promise<Event> {
    const event = await this.getEvent(organizerId, eventId);
    this.checkEvent(input);
    if (input.currency !== event.currency && (await this.store.eventHasOrders(eventId))) {
      throw new KassaError('VALIDATION_FAILED', { field: 'currency', detail: 'currency cannot change once the event has orders' });
    }
    if (input.slug !== event.slug) await this.assertSlugFree(organizerId, input.slug);
    Object.assign(event, input);
    return this.store.saveEvent(event);
  }

  listProducts(organizerId: string, eventId: string): Promise<Product[]> {
    return this.store.listProducts(organizerId, eventId);
  }

  async getProduct(organizerId: string, eventId: string, productId: string): Promise<Product> {
    await this.getEvent(organizerId, eventId);
    const product = await this.store.product(organizerId, eventId, productId);
    if (!product) throw new KassaError('NOT_FOUND', { entity: 'Product' });
    return product;
  }

  async createProduct(organizerId: string, eventId: string, input: ProductInput): Promise<Product> {
    await this.getEvent(organizerId, eventId);
    assertEnteredAmount(input.price, 'price');
    return this.store.createProduct(eventId, input);
  }

  async updateProduct(organizerId: string, eventId: string, productId: string, input: ProductInput): Promise<Product> {
    const product = await this.getProduct(organizerId, eventId, productId);
    assertEnteredAmount(input.price, 'price');
    Object.assign(product, input);
    return this.store.saveProduct(product);
  }

  /** Quotas with their products and how many live positions use them (sold or reserved). */
  listQuotas(organizerId: string, eventId: string): Promise<(Quota & { used: number })[]> {
    return this.store.listQuotas(organizerId, eventId);
  }

  async getQuota(organizerId: string, eventId: string, quotaId: string): Promise<Quota> {
    await this.getEvent(organizerId, eventId);
    const quota = await this.store.quota(organizerId, eventId, quotaId);
    if (!quota) throw new KassaError('NOT_FOUND', { entity: 'Quota' });
    return quota;
  }

  async createQuota(organizerId: string, eventId: string, input: QuotaInput): Promise<Quota> {
    await this.getEvent(organizerId, eventId);
    const products = await this.productsOf(organizerId, eventId, input.productIds);
    return this.store.createQuota(eventId, { name: input.name, size: input.size, products });
  }

  async updateQuota(organizerId: string, eventId: string, quotaId: string, input: QuotaInput): Promise<Quota> {
    const quota = await this.getQuota(organizerId, eventId, quotaId);
    quota.products = await this.productsOf(organizerId, eventId, input.productIds);
    quota.name = input.name;
    quota.size = input.size;
    return this.store.saveQuota(quota);
  }

  /** Products of this event only: an id from another event is refused, naming the field. */
  private async productsOf(organizerId: string, eventId: string, ids: string[]): Promise<Product[]> {
    if (ids.length === 0) return [];
    const products = await this.store.productsOfEvent(organizerId, eventId, ids);
    if (products.length !== new Set(ids).size) throw new KassaError('VALIDATION_FAILED', { field: 'productIds', detail: 'productIds names a product that is not part of this event' });
    return products;
  }

  private checkEvent(input: EventInput): void {
    if (!isCurrencyCode(input.currency)) throw new KassaError('MONEY_CURRENCY_UNKNOWN', { currency: input.currency, field: 'currency' });
    if (input.paymentTermLast && Number.isNaN(input.paymentTermLast.getTime())) {
      throw new KassaError('VALIDATION_FAILED', { field: 'paymentTermLast', detail: 'not a valid date and time' });
    }
  }

  private async assertSlugFree(organizerId: string, slug: string): Promise<void> {
    if (await this.store.slugTaken(organizerId, slug)) throw new KassaError('VALIDATION_FAILED', { field: 'slug', detail: `slug ${slug} is already used by another event` });
  }
}
