import { Event, KassaError, Product, Quota, assertEnteredAmount, isCurrencyCode, type DataSource, In } from '@kassa/core/host';

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
 * Events, products and quotas of one organizer. Every lookup is scoped by organizer: another
 * organizer's object is NOT_FOUND, exactly like one that does not exist.
 */
export class CatalogService {
  constructor(private readonly dataSource: DataSource) {}

  listEvents(organizerId: string): Promise<Event[]> {
    return this.dataSource.getRepository(Event).find({ where: { organizerId }, order: { createdAt: 'DESC' } });
  }

  async getEvent(organizerId: string, eventId: string): Promise<Event> {
    const event = await this.dataSource.getRepository(Event).findOneBy({ id: eventId, organizerId });
    if (!event) throw new KassaError('NOT_FOUND', { entity: 'Event' });
    return event;
  }

  async createEvent(organizerId: string, input: EventInput): Promise<Event> {
    this.checkEvent(input);
    await this.assertSlugFree(organizerId, input.slug);
    const repo = this.dataSource.getRepository(Event);
    return repo.save(repo.create({ organizerId, ...input }));
  }

  async updateEvent(organizerId: string, eventId: string, input: EventInput): Promise<Event> {
    const event = await this.getEvent(organizerId, eventId);
    this.checkEvent(input);
    if (input.currency !== event.currency && (await this.hasOrders(eventId))) {
      throw new KassaError('VALIDATION_FAILED', { field: 'currency', detail: 'currency cannot change once the event has orders' });
    }
    if (input.slug !== event.slug) await this.assertSlugFree(organizerId, input.slug);
    Object.assign(event, input);
    return this.dataSource.getRepository(Event).save(event);
  }

  listProducts(eventId: string): Promise<Product[]> {
    return this.dataSource.getRepository(Product).find({ where: { eventId }, order: { position: 'ASC', name: 'ASC' } });
  }

  async getProduct(organizerId: string, eventId: string, productId: string): Promise<Product> {
    await this.getEvent(organizerId, eventId);
    const product = await this.dataSource.getRepository(Product).findOneBy({ id: productId, eventId });
    if (!product) throw new KassaError('NOT_FOUND', { entity: 'Product' });
    return product;
  }

  async createProduct(organizerId: string, eventId: string, input: ProductInput): Promise<Product> {
    await this.getEvent(organizerId, eventId);
    assertEnteredAmount(input.price, 'price');
    const repo = this.dataSource.getRepository(Product);
    return repo.save(repo.create({ eventId, ...input }));
  }

  async updateProduct(organizerId: string, eventId: string, productId: string, input: ProductInput): Promise<Product> {
    const product = await this.getProduct(organizerId, eventId, productId);
    assertEnteredAmount(input.price, 'price');
    Object.assign(product, input);
    return this.dataSource.getRepository(Product).save(product);
  }

  /** Quotas with their products and how many live positions use them (sold or reserved). */
  async listQuotas(eventId: string): Promise<(Quota & { used: number })[]> {
    const quotas = await this.dataSource.getRepository(Quota).find({ where: { eventId }, relations: { products: true }, order: { name: 'ASC' } });
    if (quotas.length === 0) return [];
    const rows: { quota_id: string; used: string }[] = await this.dataSource.query(
      `SELECT qp.quota_id, count(p.id) AS used
         FROM quota_product qp
         JOIN order_position p ON p.product_id = qp.product_id AND NOT p.canceled
         JOIN kassa_order o ON o.id = p.order_id AND o.status IN ('pending', 'paid')
        WHERE qp.quota_id = ANY($1)
        GROUP BY qp.quota_id`,
      [quotas.map((q) => q.id)],
    );
    const used = new Map(rows.map((r) => [r.quota_id, Number(r.used)]));
    return quotas.map((q) => Object.assign(q, { used: used.get(q.id) ?? 0 }));
  }

  async getQuota(organizerId: string, eventId: string, quotaId: string): Promise<Quota> {
    await this.getEvent(organizerId, eventId);
    const quota = await this.dataSource.getRepository(Quota).findOne({ where: { id: quotaId, eventId }, relations: { products: true } });
    if (!quota) throw new KassaError('NOT_FOUND', { entity: 'Quota' });
    return quota;
  }

  async createQuota(organizerId: string, eventId: string, input: QuotaInput): Promise<Quota> {
    await this.getEvent(organizerId, eventId);
    const products = await this.productsOf(eventId, input.productIds);
    const repo = this.dataSource.getRepository(Quota);
    return repo.save(repo.create({ eventId, name: input.name, size: input.size, products }));
  }

  async updateQuota(organizerId: string, eventId: string, quotaId: string, input: QuotaInput): Promise<Quota> {
    const quota = await this.getQuota(organizerId, eventId, quotaId);
    quota.products = await this.productsOf(eventId, input.productIds);
    quota.name = input.name;
    quota.size = input.size;
    return this.dataSource.getRepository(Quota).save(quota);
  }

  /** Products of this event only: an id from another event is refused, naming the field. */
  private async productsOf(eventId: string, ids: string[]): Promise<Product[]> {
    if (ids.length === 0) return [];
    const products = await this.dataSource.getRepository(Product).findBy({ id: In(ids), eventId });
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
    const taken = await this.dataSource.getRepository(Event).existsBy({ organizerId, slug });
    if (taken) throw new KassaError('VALIDATION_FAILED', { field: 'slug', detail: `slug ${slug} is already used by another event` });
  }

  private async hasOrders(eventId: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query('SELECT 1 FROM kassa_order WHERE event_id = $1 LIMIT 1', [eventId]);
    return rows.length > 0;
  }
}
