import { In, type DataSource } from 'typeorm';
import { Event } from '../event/event.entity';
import { Product } from '../event/product.entity';
import { Quota } from '../event/quota.entity';
import { Organizer } from '../organizer/organizer.entity';
import { orderMachine } from '../order/order.machine';

/** Remaining tickets per product id: a count, or null when no quota of the product limits it. */
export type Availability = ReadonlyMap<string, number | null>;

/** What is left per product, and which products are gone only into other buyers' carts. */
export interface AvailabilityDetail {
  left: Availability;
  reserved: ReadonlySet<string>;
}

/** A live event as the site's front page lists it. */
export interface LiveEventRow {
  name: string;
  slug: string;
  organizerName: string;
  organizerSlug: string;
}

/** What an event's form may set. */
export type EventFields = Pick<Event, 'name' | 'slug' | 'currency' | 'paymentTermDays' | 'paymentTermAcceptLate' | 'paymentTermLast' | 'live'>
  & Partial<Pick<Event, 'reservationMinutes'>>;
/** What a product's form may set. */
export type ProductFields = Pick<Product, 'name' | 'price' | 'active' | 'position'>;

/**
 * Reads and writes of the catalog: organizers as the shop finds them, events, products, quotas and
 * what is left of them. Everything the control panel reaches is scoped by organizer: another
 * organizer's id answers null or an empty list, exactly like one that does not exist. The shop's
 * reads go by the organizer's public slug (the event page is public).
 */
export class CatalogStore {
  constructor(private readonly ds: DataSource) {}

  // ——— the shop (public: by slug) ———

  /** The organizer and event behind `/:organizer/:event/` (two indexed lookups), or null. */
  async shopEvent(organizerSlug: string, eventSlug: string): Promise<{ organizer: Organizer; event: Event } | null> {
    const organizer = await this.ds.manager.findOneBy(Organizer, { slug: organizerSlug, isActive: true });
    if (!organizer) return null;
    const event = await this.ds.manager.findOneBy(Event, { organizerId: organizer.id, slug: eventSlug });
    return event ? { organizer, event } : null;
  }

  /** The products on sale for an event, in display order. */
  activeProducts(eventId: string): Promise<Product[]> {
    return this.ds.manager.find(Product, { where: { eventId, active: true }, order: { position: 'ASC', name: 'ASC' } });
  }

  /**
   * What is still on sale, per product. The rules are core's (quota-check.ts): a product in no
   * quota is absent (not for sale); a quota's usage counts the live positions of quota-holding
   * orders and the cart reservations unexpired at `now`; the tightest quota wins. The binding check
   * is under lock when a cart is reserved or the order placed; this read takes no lock.
   */
  async availability(eventId: string, now: Date = new Date()): Promise<Availability> {
    return (await this.availabilityDetail(eventId, now)).left;
  }

  /**
   * availability() and, besides, the products that are gone only because other buyers hold them in
   * their carts (pretix's "reserved": they may come back when those carts run out).
   */
  async availabilityDetail(eventId: string, now: Date = new Date()): Promise<AvailabilityDetail> {
    // The counters (quota_usage: live positions of quota-holding orders; quota_hold: holds per
    // minute of expiry), so a read costs the same with 10 tickets sold as with 100,000.
    const rows = await this.ds.query(
      `SELECT qp.product_id, q.size, u.used,
              (SELECT coalesce(sum(h.n), 0) FROM quota_hold h WHERE h.quota_id = q.id AND h.expires > $2) AS held
         FROM quota q JOIN quota_usage u ON u.quota_id = q.id JOIN quota_product qp ON qp.quota_id = q.id
        WHERE q.event_id = $1`,
      [eventId, now.toISOString()],
    ) as { product_id: string; size: number | null; used: string; held: string }[];
    const left = new Map<string, number | null>();
    const unheld = new Map<string, number | null>();
    const tighten = (map: Map<string, number | null>, id: string, value: number | null) => {
      const prev = map.get(id);
      // An unlimited quota never loosens a limited one.
      if (prev === undefined) map.set(id, value);
      else if (value !== null) map.set(id, prev === null ? value : Math.min(prev, value));
    };
    for (const r of rows) {
      tighten(left, r.product_id, r.size === null ? null : Math.max(0, r.size - Number(r.used) - Number(r.held)));
      tighten(unheld, r.product_id, r.size === null ? null : Math.max(0, r.size - Number(r.used)));
    }
    const reserved = new Set([...left].filter(([id, n]) => n === 0 && (unheld.get(id) ?? 0) !== 0).map(([id]) => id));
    return { left, reserved };
  }

  /** Live events of every organizer, newest first (the site's front page). */
  async liveEvents(limit = 100): Promise<LiveEventRow[]> {
    return this.ds.query(
      `SELECT e.name, e.slug, o.name AS "organizerName", o.slug AS "organizerSlug"
         FROM event e JOIN organizer o ON o.id = e.organizer_id
        WHERE e.live AND o.is_active ORDER BY e.created_at DESC LIMIT $1`, [limit],
    );
  }

  // ——— the control panel (scoped by organizer) ———

  listEvents(organizerId: string, opts: { limit?: number } = {}): Promise<Event[]> {
    return this.ds.getRepository(Event).find({ where: { organizerId }, order: { createdAt: 'DESC' }, take: opts.limit });
  }

  /** One page of the organizer's events, newest first, and how many there are (the REST API's list). */
  async pageEvents(organizerId: string, page: number, pageSize: number, eventIds?: readonly string[]): Promise<{ items: Event[]; total: number }> {
    const [items, total] = await this.ds.getRepository(Event).findAndCount({
      where: eventIds ? { organizerId, id: In([...eventIds]) } : { organizerId }, order: { createdAt: 'DESC', id: 'ASC' }, skip: (page - 1) * pageSize, take: pageSize,
    });
    return { items, total };
  }

  /** Id and name of the organizer's events, by name (filters). */
  async eventNames(organizerId: string): Promise<{ id: string; name: string }[]> {
    return this.ds.getRepository(Event).find({ select: { id: true, name: true }, where: { organizerId }, order: { name: 'ASC' } });
  }

  /** One of the organizer's events, or null (also for another organizer's). */
  event(organizerId: string, eventId: string): Promise<Event | null> {
    return this.ds.getRepository(Event).findOneBy({ id: eventId, organizerId });
  }

  async slugTaken(organizerId: string, slug: string): Promise<boolean> {
    return this.ds.getRepository(Event).existsBy({ organizerId, slug });
  }

  /** Whether the event has any order (its currency is then fixed). */
  async eventHasOrders(eventId: string): Promise<boolean> {
    const rows: unknown[] = await this.ds.query('SELECT 1 FROM kassa_order WHERE event_id = $1 LIMIT 1', [eventId]);
    return rows.length > 0;
  }

  createEvent(organizerId: string, fields: EventFields): Promise<Event> {
    const repo = this.ds.getRepository(Event);
    return repo.save(repo.create({ organizerId, ...fields }));
  }

  /** Stores the changed fields of an event loaded through `event()`. */
  saveEvent(event: Event): Promise<Event> {
    return this.ds.getRepository(Event).save(event);
  }

  /** The products of one of the organizer's events, in display order; [] for another organizer's event. */
  listProducts(organizerId: string, eventId: string): Promise<Product[]> {
    return this.ds.getRepository(Product).createQueryBuilder('p')
      .innerJoin(Event, 'e', 'e.id = p.event_id AND e.organizer_id = :organizerId', { organizerId })
      .where('p.event_id = :eventId', { eventId })
      .orderBy('p.position', 'ASC').addOrderBy('p.name', 'ASC')
      .getMany();
  }

  async product(organizerId: string, eventId: string, productId: string): Promise<Product | null> {
    if (!(await this.event(organizerId, eventId))) return null;
    return this.ds.getRepository(Product).findOneBy({ id: productId, eventId });
  }

  createProduct(eventId: string, fields: ProductFields): Promise<Product> {
    const repo = this.ds.getRepository(Product);
    return repo.save(repo.create({ eventId, ...fields }));
  }

  saveProduct(product: Product): Promise<Product> {
    return this.ds.getRepository(Product).save(product);
  }

  /** Products of one of the organizer's events among `ids` (ids of other events are left out). */
  productsOfEvent(organizerId: string, eventId: string, ids: string[]): Promise<Product[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.ds.getRepository(Product).createQueryBuilder('p')
      .innerJoin(Event, 'e', 'e.id = p.eventId AND e.organizerId = :organizerId', { organizerId })
      .where('p.eventId = :eventId AND p.id IN (:...ids)', { eventId, ids })
      .getMany();
  }

  /**
   * Quotas of one of the organizer's events with their products and how many live positions of
   * quota-holding orders use them; [] for another organizer's event.
   */
  async listQuotas(organizerId: string, eventId: string): Promise<(Quota & { used: number })[]> {
    if (!(await this.event(organizerId, eventId))) return [];
    const quotas = await this.ds.getRepository(Quota).find({ where: { eventId }, relations: { products: true }, order: { name: 'ASC' } });
    if (quotas.length === 0) return [];
    const rows: { quota_id: string; used: string }[] = await this.ds.query(
      `SELECT qp.quota_id, count(p.id) AS used
         FROM quota_product qp
         JOIN order_position p ON p.product_id = qp.product_id AND NOT p.canceled
         JOIN kassa_order o ON o.id = p.order_id AND ${orderMachine.sqlIn('quotaHolding', 'o.status')}
        WHERE qp.quota_id = ANY($1)
        GROUP BY qp.quota_id`,
      [quotas.map((q) => q.id)],
    );
    const used = new Map(rows.map((r) => [r.quota_id, Number(r.used)]));
    return quotas.map((q) => Object.assign(q, { used: used.get(q.id) ?? 0 }));
  }

  async quota(organizerId: string, eventId: string, quotaId: string): Promise<Quota | null> {
    if (!(await this.event(organizerId, eventId))) return null;
    return this.ds.getRepository(Quota).findOne({ where: { id: quotaId, eventId }, relations: { products: true } });
  }

  createQuota(eventId: string, fields: { name: string; size: number | null; products: Product[] }): Promise<Quota> {
    const repo = this.ds.getRepository(Quota);
    return repo.save(repo.create({ eventId, ...fields }));
  }

  saveQuota(quota: Quota): Promise<Quota> {
    return this.ds.getRepository(Quota).save(quota);
  }
}
