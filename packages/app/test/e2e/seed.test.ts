import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Event, Organizer, Product, Quota, Team, User, parseConfig } from '@kassa/core/host';
import { silentLogger } from '@kassa/jobs';
import { createTestDatabase, type TestDatabase } from '@kassa/testing';
import { seedDemo } from '../../src/seed/demo-seed';
import { startKassa, type RunningKassa } from '../../src/start-kassa';
import { Buyer } from '../support/buyer';

/*
 * The first-start demo seed through the composition (a DATABASE_URL, no embedded defaults): the
 * demo organizer, event, products, quota and a login that works in the control panel, written
 * once; a second seed writes nothing.
 */
let db: TestDatabase;
let running: RunningKassa;
const dataDir = mkdtempSync(path.join(tmpdir(), 'kassa-seed-'));

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 2 });
  const config = parseConfig({
    DATABASE_URL: db.url, KASSA_DB_SCHEMA: db.schema, KASSA_JOBS_SCHEMA: `${db.schema}_jobs`, HOST: '127.0.0.1', PORT: 0,
    KASSA_DATA_DIR: dataDir, KASSA_SECRET_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent',
  });
  running = await startKassa(config, { inProcessJobs: false, embeddedDefaults: false, passwordLogN: 10, jobsLogger: silentLogger });
});

afterAll(async () => {
  await running?.close();
  await db?.dataSource.query(`DROP SCHEMA IF EXISTS "${db.schema}_jobs" CASCADE`);
  await db?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('first-start demo seed', () => {
  it('creates the demo organizer, event, products and a working login once, and nothing on the next start', async () => {
    const ds = running.kassa.dataSource;
    expect(running.eventPath).toBe('/demo/summer-fest/');
    const event = await ds.getRepository(Event).findOneByOrFail({ slug: 'summer-fest' });
    expect(event).toMatchObject({ name: 'Summer Fest', currency: 'EUR', timezone: 'Europe/Berlin', live: true, paymentTermDays: 7 });
    expect((await ds.getRepository(Product).findBy({ eventId: event.id })).map((p) => p.price).sort((a, b) => a - b)).toEqual([0, 4500, 8900]);
    const quota = await ds.getRepository(Quota).findOneOrFail({ where: { eventId: event.id }, relations: { products: true } });
    expect(quota.size).toBe(500);
    expect(quota.products).toHaveLength(3);

    // The login works in the control panel (the team membership was written with the team).
    const login = running.login!;
    const browser = new Buyer(running.app);
    await browser.get('/control/login');
    const res = await browser.post('/control/login', { email: login.email, password: login.password });
    expect(res.statusCode).toBe(303);
    expect(browser.cookie('kassa_session')).toBeDefined();
    const team = await ds.getRepository(Team).findOneOrFail({ where: { name: 'Owners' }, relations: { members: true } });
    expect(team.members!.map((m) => m.email)).toEqual([login.email]);
    const user = await ds.getRepository(User).findOneByOrFail({ email: login.email });
    expect(user.passwordHash).not.toContain(login.password);
    // Only the embedded default makes the demo login an operator.
    expect(user.isOperator).toBe(false);

    const second = await seedDemo(ds, running.kassa.settings);
    expect(second).toEqual({ created: false, login: null, eventUrlPath: null });
    expect(await ds.getRepository(Organizer).count()).toBe(1);
  });
});
