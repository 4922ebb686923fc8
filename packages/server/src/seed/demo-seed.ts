import { randomBytes } from 'node:crypto';
import { Event, Organizer, Product, Quota, Team, User, organizerSettings, type DataSource, type SettingsStore } from '@kassa/core/host';
import { hashPassword, type HashOptions } from '../auth/password';

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
 */
export async function seedDemo(ds: DataSource, settings: SettingsStore, hash: HashOptions = {}, opts: { operator?: boolean } = {}): Promise<SeedResult> {
  if ((await ds.getRepository(Organizer).count()) > 0) return { created: false, login: null, eventUrlPath: null };
  const password = randomBytes(9).toString('base64url');
  const login = { email: 'demo@kassa.local', password };
  const passwordHash = await hashPassword(password, hash);
  const { organizer, event } = await ds.transaction(async (tx) => {
    const organizer = await tx.getRepository(Organizer).save({ slug: 'demo', name: 'Demo Events' });
    const event = await tx.getRepository(Event).save({
      organizerId: organizer.id, slug: 'summer-fest', name: 'Summer Fest', currency: 'EUR', timezone: 'Europe/Berlin', locale: 'en',
      paymentTermDays: 7, paymentTermAcceptLate: true, live: true,
    });
    const products = await tx.getRepository(Product).save([
      { eventId: event.id, name: 'Day ticket', price: 4500, active: true, position: 1 },
      { eventId: event.id, name: 'Weekend pass', price: 8900, active: true, position: 2 },
      { eventId: event.id, name: 'Workshop (free)', price: 0, active: true, position: 3 },
    ]);
    await tx.getRepository(Quota).save({ eventId: event.id, name: 'Festival ground', size: 500, products });
    const user = await tx.getRepository(User).save({ email: login.email, passwordHash, name: 'Demo Organizer', isActive: true, isOperator: opts.operator ?? false });
    const team = await tx.getRepository(Team).save({ organizerId: organizer.id, name: 'Owners', isAdmin: true });
    await tx.query('INSERT INTO team_member (team_id, user_id) VALUES ($1, $2)', [team.id, user.id]);
    return { organizer, event };
  });
  await settings.set(organizerSettings(organizer.id), 'payment.manual', {
    _enabled: true,
    publicName: 'Bank transfer',
    pendingInstructions: 'Please transfer the amount to IBAN DE89 3704 0044 0532 0130 00 (Demo Events), reference: your order code.',
  });
  return { created: true, login, eventUrlPath: `/${organizer.slug}/${event.slug}/` };
}
