import { CatalogStore } from '@kassa/core/host';
import { createEvent, createProduct, createQuota } from '@kassa/testing';
import { createCoreHarness, type CoreHarness } from './core-harness';

/** Core's catalog reads and writes: scoped by organizer for the control panel, by slug for the shop. */
describe('CatalogStore', () => {
  let h: CoreHarness;
  let catalog: CatalogStore;
  beforeAll(async () => {
    h = await createCoreHarness();
    catalog = new CatalogStore(h.ds);
  });
  afterAll(async () => { await h.destroy(); });

  it('counts availability from the live positions of quota-holding orders; the tightest quota wins', async () => {
    const shop = await h.shop({ quotaSize: 5 });
    const vip = await createProduct(h.ds, shop.event.id, { name: 'VIP' });
    const unlisted = await createProduct(h.ds, shop.event.id, { name: 'Unlisted' });
    await createQuota(h.ds, shop.event.id, [shop.product, vip], null, 'Unlimited');
    await createQuota(h.ds, shop.event.id, [vip], 2, 'VIP');
    const { order } = await h.order(shop, { count: 2 });
    expect(await catalog.availability(shop.event.id)).toEqual(new Map([[shop.product.id, 3], [vip.id, 2]]));
    expect((await catalog.availability(shop.event.id)).has(unlisted.id)).toBe(false);
    // A canceled order holds nothing any more.
    await h.core.orders.cancelOrder(order.id, { actor: { type: 'user', id: 'admin-1' } });
    expect((await catalog.availability(shop.event.id)).get(shop.product.id)).toBe(5);
    const quotas = await catalog.listQuotas(shop.organizer.id, shop.event.id);
    expect(quotas.map((q) => [q.name, q.used])).toEqual([['Quota', 0], ['Unlimited', 0], ['VIP', 0]]);
  });

  it('finds the shop event by slugs, and only live events on the front page', async () => {
    const shop = await h.shop({ event: { live: true } });
    const found = await catalog.shopEvent(shop.organizer.slug, shop.event.slug);
    expect(found?.event.id).toBe(shop.event.id);
    const other = await h.shop({ event: { live: false } });
    expect(await catalog.shopEvent(other.organizer.slug, shop.event.slug)).toBeNull();
    const live = await catalog.liveEvents();
    expect(live).toContainEqual({ name: shop.event.name, slug: shop.event.slug, organizerName: shop.organizer.name, organizerSlug: shop.organizer.slug });
    expect(live.map((e) => e.slug)).not.toContain(other.event.slug);
    expect((await catalog.activeProducts(shop.event.id)).map((p) => p.id)).toEqual([shop.product.id]);
  });

  it("answers nothing for another organizer's event, product or quota", async () => {
    const shop = await h.shop();
    const other = (await h.shop()).organizer.id;
    expect(await catalog.event(other, shop.event.id)).toBeNull();
    expect(await catalog.listProducts(other, shop.event.id)).toEqual([]);
    expect(await catalog.product(other, shop.event.id, shop.product.id)).toBeNull();
    expect(await catalog.listQuotas(other, shop.event.id)).toEqual([]);
    expect(await catalog.quota(other, shop.event.id, shop.quota.id)).toBeNull();
    expect((await catalog.listEvents(other)).map((e) => e.id)).not.toContain(shop.event.id);
    expect((await catalog.eventNames(other)).map((e) => e.id)).not.toContain(shop.event.id);
    // …while its own organizer sees them.
    expect((await catalog.listProducts(shop.organizer.id, shop.event.id)).map((p) => p.id)).toEqual([shop.product.id]);
    expect((await catalog.quota(shop.organizer.id, shop.event.id, shop.quota.id))?.products?.map((p) => p.id)).toEqual([shop.product.id]);
  });

  it('creates and changes events, products and quotas; a product of another event is left out', async () => {
    const shop = await h.shop();
    const event = await catalog.createEvent(shop.organizer.id, {
      name: 'Spring', slug: 'spring', currency: 'EUR', paymentTermDays: 7, paymentTermAcceptLate: true, paymentTermLast: null, live: false,
    });
    expect(await catalog.slugTaken(shop.organizer.id, 'spring')).toBe(true);
    expect(await catalog.slugTaken((await h.shop()).organizer.id, 'spring')).toBe(false);
    const product = await catalog.createProduct(event.id, { name: 'Early', price: 900, active: true, position: 1 });
    expect(await catalog.productsOfEvent(shop.organizer.id, event.id, [product.id, shop.product.id])).toEqual([expect.objectContaining({ id: product.id })]);
    expect(await catalog.productsOfEvent((await h.shop()).organizer.id, event.id, [product.id])).toEqual([]);
    const quota = await catalog.createQuota(event.id, { name: 'All', size: 10, products: [product] });
    quota.size = 12;
    await catalog.saveQuota(quota);
    expect((await catalog.quota(shop.organizer.id, event.id, quota.id))?.size).toBe(12);
    expect(await catalog.eventHasOrders(event.id)).toBe(false);
    expect(await catalog.eventHasOrders(shop.event.id)).toBe(false);
    await h.order(shop);
    expect(await catalog.eventHasOrders(shop.event.id)).toBe(true);
    expect((await createEvent(h.ds, { organizerId: shop.organizer.id })).organizerId).toBe(shop.organizer.id);
  });
});
