import { Event } from '@kassa/core/host';
import { createShop } from '@kassa/testing';
import { createShopTestApp, type ShopTestApp } from './shop-test-app';

let t: ShopTestApp;
beforeAll(async () => { t = await createShopTestApp(); });
afterAll(async () => { await t.close(); });

describe('front page', () => {
  it('lists the events on sale with links to their shops, and not the ones that are not live', async () => {
    const onSale = await createShop(t.db.dataSource);
    const closed = await createShop(t.db.dataSource);
    await t.db.dataSource.getRepository(Event).update({ id: closed.event.id }, { live: false });
    const res = await t.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(`href="/${onSale.organizer.slug}/${onSale.event.slug}/"`);
    expect(res.body).not.toContain(`/${closed.organizer.slug}/${closed.event.slug}/`);
    expect(res.body).toContain('/static/kassa.css');
  });
});
