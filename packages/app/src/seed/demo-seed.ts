import { randomBytes } from 'node:crypto';
import {
  CatalogStore, createOrganizerWithAdminTeam, createUser, hasAnyOrganizer, organizerSettings, removeOrganizerAndUser, type DataSource, type SettingsStore,
} from '@kassa/core/host';
import { CatalogService, hashPassword, type HashOptions } from '@kassa/server';

export interface DemoLogin {
  email: string;
  password: string;
}

export interface SeedResult {
  /** False when the database already had an organizer (nothing was written). */
  created: boolean;
  login: DemoLogin | null;
  eventUrlPath: string | null;
}

/**
 * First start only: a demo organizer with an event ("Summer Fest"), three products in one quota,
 * manual payment enabled, and a demo login with a random password (printed by main.ts and kept in
 * the data directory). Any existing organizer means the instance is set up: nothing is written.
 * With `operator` (the embedded default, where whoever started the process runs the instance) the
 * demo login is also the instance's operator.
 *
 * No SQL: the catalogue goes through the control panel's catalogue service (the same checks an
 * organizer's input gets), the organizer, its team and the login through core's organizer-admin store.
 */
export async function seedDemo(ds: DataSource, settings: SettingsStore, hash: HashOptions = {}, opts: { operator?: boolean } = {}): Promise<SeedResult> {
  if (await hasAnyOrganizer(ds)) return { created: false, login: null, eventUrlPath: null };
  const password = randomBytes(9).toString('base64url');
  const login = { email: 'demo@kassa.local', password };
  const passwordHash = await hashPassword(password, hash);
  const user = await createUser(ds, { email: login.email, passwordHash, name: 'Demo Organizer', isOperator: opts.operator ?? false });
  let organizerId: string | null = null;
  try {
    const { organizer } = await createOrganizerWithAdminTeam(ds, { name: 'Demo Events', slug: 'demo', adminEmail: login.email, teamName: 'Owners' });
    organizerId = organizer.id;
    const catalog = new CatalogService(ds);
    const event = await catalog.createEvent(organizer.id, {
      slug: 'summer-fest', name: 'Summer Fest', currency: 'EUR', paymentTermDays: 7, paymentTermAcceptLate: true, paymentTermLast: null, live: true,
    });
    // The panel's event form has no time zone (new events take the default); the demo is in Berlin.
    const store = new CatalogStore(ds);
    const stored = await store.event(organizer.id, event.id);
    if (stored) await store.saveEvent(Object.assign(stored, { timezone: 'Europe/Berlin' }));
    const products = [
      await catalog.createProduct(organizer.id, event.id, { name: 'Day ticket', price: 4500, active: true, position: 1 }),
      await catalog.createProduct(organizer.id, event.id, { name: 'Weekend pass', price: 8900, active: true, position: 2 }),
      await catalog.createProduct(organizer.id, event.id, { name: 'Workshop (free)', price: 0, active: true, position: 3 }),
    ];
    await catalog.createQuota(organizer.id, event.id, { name: 'Festival ground', size: 500, productIds: products.map((p) => p.id) });
    await settings.set(organizerSettings(organizer.id), 'payment.manual', {
      _enabled: true,
      publicName: 'Bank transfer',
      pendingInstructions: 'Please transfer the amount to IBAN DE89 3704 0044 0532 0130 00 (Demo Events), reference: your order code.',
    });
    return { created: true, login, eventUrlPath: `/${organizer.slug}/${event.slug}/` };
  } catch (err) {
    // A half-written demo would make the next start skip the seed: remove it (its event, products, quota and team cascade).
    await removeOrganizerAndUser(ds, organizerId, user.id);
    throw err;
  }
}
