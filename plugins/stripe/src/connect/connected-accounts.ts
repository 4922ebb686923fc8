import { eventSettings, globalSettings, organizerSettings, type SettingsTarget } from '@kassa/core';
import type Stripe from 'stripe';
import { stripeError } from '../errors';
import { STRIPE_NAMESPACE, stripeSettingsFrom } from '../stripe-account-context';
import type { StripeSettings } from '../settings-schema';
import { stripeCall } from '../intents';
import { platformClient } from './connect-charge';
import type { StripeRuntime } from '../stripe-state';
import { levelOf, signConnection } from './connection-token';

/** A connected account of an organizer (or one event), as Kassa last saw it. */
export interface ConnectedAccount {
  readonly id: string;
  readonly organizerId: string;
  readonly eventId: string | null;
  readonly accountId: string;
  readonly accountType: string;
  readonly country: string | null;
  /** The mode the account was connected in (a live-mode OAuth token, or a live account). */
  readonly livemode: boolean;
  /** For a live Standard connection: the test-mode publishable key Stripe gave for it, when the platform has test keys. */
  readonly testPublishableKey: string | null;
  readonly chargesEnabled: boolean;
  readonly payoutsEnabled: boolean;
  readonly detailsSubmitted: boolean;
  /** Stripe's `requirements` (currently_due, past_due, current_deadline, errors, disabled_reason). */
  readonly requirements: Record<string, unknown>;
}

const columns = 'id, organizer_id, event_id, account_id, account_type, country, livemode, test_publishable_key, charges_enabled, payouts_enabled, details_submitted, requirements';

function rowFrom(r: Record<string, unknown>): ConnectedAccount {
  return {
    id: String(r.id), organizerId: String(r.organizer_id), eventId: (r.event_id as string | null) ?? null, accountId: String(r.account_id),
    accountType: String(r.account_type), country: (r.country as string | null) ?? null, livemode: r.livemode === true,
    testPublishableKey: (r.test_publishable_key as string | null) ?? null,
    chargesEnabled: r.charges_enabled === true, payoutsEnabled: r.payouts_enabled === true, detailsSubmitted: r.details_submitted === true,
    requirements: (r.requirements as Record<string, unknown>) ?? {},
  };
}

/** The platform's settings (instance level) and a client with the platform key; STRIPE_NOT_CONFIGURED without one. */
export async function platformContext(rt: Pick<StripeRuntime, 'settings'>, opts: { stripeAccount?: string } = {}): Promise<{ settings: StripeSettings; stripe: Stripe }> {
  const settings = stripeSettingsFrom(await rt.settings.resolve(globalSettings, STRIPE_NAMESPACE));
  if (!settings.platformSecretKey) throw stripeError('STRIPE_NOT_CONFIGURED', { scope: 'Connect', detail: 'the operator has set no platform secret key (platformSecretKey)' });
  return { settings, stripe: platformClient(settings, opts.stripeAccount) };
}

/** The live connection of exactly this level (the event's own, or the organizer's when eventId is null). */
export async function connectionAt(rt: Pick<StripeRuntime, 'db'>, organizerId: string, eventId: string | null): Promise<ConnectedAccount | null> {
  const [row] = await rt.db.query(
    `SELECT ${columns} FROM stripe_connected_account WHERE organizer_id = $1 AND event_id IS NOT DISTINCT FROM $2 AND disconnected_at IS NULL`,
    [organizerId, eventId],
  );
  return row ? rowFrom(row) : null;
}

/** The connection an event's payments use: the event's own, else its organizer's. */
export async function connectionFor(rt: Pick<StripeRuntime, 'db'>, event: { id: string; organizerId: string }): Promise<ConnectedAccount | null> {
  return (await connectionAt(rt, event.organizerId, event.id)) ?? connectionAt(rt, event.organizerId, null);
}

/** Every live connection of an account id (normally one). */
export async function connectionsOfAccount(rt: Pick<StripeRuntime, 'db'>, accountId: string): Promise<ConnectedAccount[]> {
  const rows = await rt.db.query(`SELECT ${columns} FROM stripe_connected_account WHERE account_id = $1 AND disconnected_at IS NULL`, [accountId]);
  return rows.map(rowFrom);
}

function targetOfLevel(organizerId: string, eventId: string | null): SettingsTarget {
  return eventId ? eventSettings({ id: eventId, organizerId }) : organizerSettings(organizerId);
}

/**
 * Stores (or refreshes) the connection of a level from the account Stripe returned, and copies it,
 * signed, into the provider's settings of that level, where checkout reads it. A level holds one
 * live connection: connecting another account ends the previous one here (not at Stripe).
 */
export async function saveConnection(
  rt: Pick<StripeRuntime, 'db' | 'settings'>,
  input: { organizerId: string; eventId: string | null; account: Stripe.Account; livemode?: boolean; testPublishableKey?: string | null },
): Promise<ConnectedAccount> {
  const { organizerId, eventId, account: a } = input;
  // OAuth says in which mode the connection was made; otherwise the account object does.
  const livemode = input.livemode ?? (a as { livemode?: boolean }).livemode === true;
  const requirements = a.requirements ?? {};
  await rt.db.transaction(async (tx) => {
    await tx.query(
      `UPDATE stripe_connected_account SET disconnected_at = now() WHERE organizer_id = $1 AND event_id IS NOT DISTINCT FROM $2 AND disconnected_at IS NULL AND account_id <> $3`,
      [organizerId, eventId, a.id],
    );
    const updated = await tx.query(
      `UPDATE stripe_connected_account SET account_type = $4, country = $5, charges_enabled = $6, payouts_enabled = $7, details_submitted = $8, requirements = $9, updated_at = now(),
              livemode = COALESCE($10, livemode), test_publishable_key = COALESCE($11, test_publishable_key)
        WHERE organizer_id = $1 AND event_id IS NOT DISTINCT FROM $2 AND account_id = $3 AND disconnected_at IS NULL RETURNING id`,
      [organizerId, eventId, a.id, a.type ?? 'none', a.country ?? null, a.charges_enabled === true, a.payouts_enabled === true, a.details_submitted === true, JSON.stringify(requirements),
        input.livemode ?? null, input.testPublishableKey ?? null],
    );
    if (updated.length === 0) {
      await tx.query(
        `INSERT INTO stripe_connected_account (organizer_id, event_id, account_id, account_type, country, livemode, charges_enabled, payouts_enabled, details_submitted, requirements, test_publishable_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [organizerId, eventId, a.id, a.type ?? 'none', a.country ?? null, livemode, a.charges_enabled === true, a.payouts_enabled === true, a.details_submitted === true, JSON.stringify(requirements),
          input.testPublishableKey ?? null],
      );
    }
  });
  const saved = await connectionAt(rt, organizerId, eventId);
  if (!saved) throw stripeError('STRIPE_ACCOUNT_UNKNOWN', { account: a.id });
  await publishConnection(rt, saved);
  return saved;
}

/**
 * Copies a connection into the provider's settings of its level, signed with the platform key.
 * Asks Stripe for the platform's own country once per change, so checkout knows without a call
 * whether destination charges cross a border (on_behalf_of).
 */
export async function publishConnection(rt: Pick<StripeRuntime, 'settings'>, c: ConnectedAccount): Promise<void> {
  const { settings, stripe } = await platformContext(rt);
  const platform = await stripeCall('read the platform account', () => stripe.accounts.retrieveCurrent());
  const token = signConnection(settings.platformSecretKey as string, {
    level: levelOf(c.organizerId, c.eventId), accountId: c.accountId, accountType: c.accountType, chargesEnabled: c.chargesEnabled,
    country: c.country, crossBorder: Boolean(platform.country && c.country && platform.country !== c.country), platformAccount: platform.id,
    livemode: c.livemode, testAccess: c.livemode && c.testPublishableKey !== null,
  });
  await rt.settings.set(targetOfLevel(c.organizerId, c.eventId), STRIPE_NAMESPACE, { connectAccount: token });
}

/**
 * Ends a level's connection in Kassa (the row stays, marked). At the organizer's level the
 * provider is disabled too: without the connection its charges would have nowhere to go (and a
 * level without keys of its own would no longer be valid enabled); the organizer enables it again
 * after reconnecting. An event's own connection just goes: the event falls back to the organizer's
 * (as it did before it had its own), and whether Stripe is offered stays the organizer's choice.
 */
export async function clearConnection(rt: Pick<StripeRuntime, 'db' | 'settings'>, c: Pick<ConnectedAccount, 'organizerId' | 'eventId' | 'accountId'>): Promise<void> {
  await rt.db.query(
    `UPDATE stripe_connected_account SET disconnected_at = now() WHERE organizer_id = $1 AND event_id IS NOT DISTINCT FROM $2 AND account_id = $3 AND disconnected_at IS NULL`,
    [c.organizerId, c.eventId, c.accountId],
  );
  await rt.settings.set(targetOfLevel(c.organizerId, c.eventId), STRIPE_NAMESPACE, c.eventId ? { connectAccount: null } : { connectAccount: null, _enabled: false });
}
