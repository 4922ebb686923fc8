import { Event, Organizer, Product, User } from '@kassa/core/host';
import { seedDemo } from '../../src/seed/demo-seed';
import { createTestApp, login, type TestApp } from './test-app';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

describe('first-start demo seed', () => {
  it('creates the demo organizer, event, products and a working login once, and nothing on the next start', async () => {
    const first = await seedDemo(t.db.dataSource, t.deps.settings);
    expect(first.created).toBe(true);
    expect(first.eventUrlPath).toBe('/demo/summer-fest/');
    const event = await t.db.dataSource.getRepository(Event).findOneByOrFail({ slug: 'summer-fest' });
    expect((await t.db.dataSource.getRepository(Product).findBy({ eventId: event.id })).map((p) => p.price).sort((a, b) => a - b)).toEqual([0, 4500, 8900]);
    const browser = await login(t, first.login!.email, first.login!.password);
    expect(browser.cookie).toContain('kassa_session=');
    const user = await t.db.dataSource.getRepository(User).findOneByOrFail({ email: first.login!.email });
    expect(user.passwordHash).not.toContain(first.login!.password);
    // Only the embedded default (bootstrap) makes the demo login an operator.
    expect(user.isOperator).toBe(false);

    const second = await seedDemo(t.db.dataSource, t.deps.settings);
    expect(second).toEqual({ created: false, login: null, eventUrlPath: null });
    expect(await t.db.dataSource.getRepository(Organizer).count()).toBe(1);
  });
});
