import { createProviderContextFactory, globalSettings, organizerSettings, type OrderPayment } from '@kassa/core/host';
import Stripe from 'stripe';
import { createStripeClient, saveConnection, STRIPE_NAMESPACE, type ChargeModel, type ConnectedAccount, type PlatformFeeRule } from '../../src';
import type { StripeHarness } from './stripe-harness';

let platformCounter = 0;

/** The instance as a Connect platform: what an operator puts in KASSA_INSTANCE_SETTINGS. */
export interface ConnectPlatform {
  key: string;
  publishableKey: string;
  clientId: string;
  /** A client with the platform's key (plays Stripe's dashboard, and the buyer's browser for platform charges). */
  stripe: Stripe;
  /** The same, acting on a connected account (the browser of a direct charge). */
  on(account: string): Stripe;
}

export async function enableConnect(
  h: StripeHarness, opts: { model?: ChargeModel; fees?: Record<string, PlatformFeeRule>; organizers?: Record<string, { chargeModel?: ChargeModel; fees?: Record<string, PlatformFeeRule> }> } = {},
): Promise<ConnectPlatform> {
  platformCounter += 1;
  const key = `sk_test_platform${process.pid}x${platformCounter}`;
  const keys = h.emulator.keysFor(key);
  await h.settings.set(globalSettings, STRIPE_NAMESPACE, {
    platformSecretKey: key, platformPublishableKey: keys.publishableKey, connectClientId: keys.clientId,
    connectChargeModel: opts.model ?? 'destination', connectFees: opts.fees ?? {}, connectOrganizers: opts.organizers ?? {},
  });
  const client = (account?: string) => createStripeClient({ secretKey: key, apiBase: h.emulator.url, maxNetworkRetries: 0, ...(account ? { stripeAccount: account } : {}) });
  return { key, publishableKey: keys.publishableKey, clientId: keys.clientId, stripe: client(), on: (account) => client(account) };
}

/** Changes the operator's charge model (and fees) between tests. */
export async function setModel(h: StripeHarness, model: ChargeModel, fees?: Record<string, PlatformFeeRule>): Promise<void> {
  await h.settings.set(globalSettings, STRIPE_NAMESPACE, { connectChargeModel: model, ...(fees ? { connectFees: fees } : {}) });
}

/** A connected account for the shop's organizer (or another), onboarded unless told otherwise, saved as Kassa saves it. */
export async function connectAccount(
  h: StripeHarness, p: ConnectPlatform, opts: { type?: 'standard' | 'express' | 'custom'; country?: string; onboarded?: boolean; organizerId?: string; eventId?: string | null } = {},
): Promise<ConnectedAccount> {
  const a = await p.stripe.accounts.create({
    type: opts.type ?? 'express', country: opts.country ?? 'US', email: 'org@example.org',
    capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
  });
  if (opts.onboarded !== false) await fetch(`${h.emulator.url}/_emulator/accounts/${a.id}/complete_onboarding`, { method: 'POST' });
  const fresh = await p.stripe.accounts.retrieve(a.id);
  const organizerId = opts.organizerId ?? h.shop.organizer.id;
  const saved = await saveConnection(h.rt, { organizerId, eventId: opts.eventId ?? null, account: fresh });
  // A connected organizer needs no keys of its own: the harness's are dropped.
  if (organizerId === h.shop.organizer.id) await h.settings.set(organizerSettings(organizerId), STRIPE_NAMESPACE, { secretKey: null, publishableKey: null });
  return saved;
}

/** The buyer confirms in the browser: with the platform's key, acting on the connected account for direct charges. */
export async function buyerConfirmsOn(client: Stripe, intentId: string, pm = 'pm_card_visa'): Promise<Stripe.PaymentIntent> {
  try {
    return await client.paymentIntents.confirm(intentId, { payment_method: pm, return_url: 'https://shop.invalid/return' });
  } catch (err) {
    if (err instanceof Stripe.errors.StripeCardError) return client.paymentIntents.retrieve(intentId);
    throw err;
  }
}

/** Whether checkout offers Stripe for this organizer's event (core's context, the provider's isAllowed). */
export async function stripeOffered(h: StripeHarness, event = h.shop.event, total = 2500): Promise<boolean> {
  const contextFor = createProviderContextFactory({ providers: h.loaded.providers, settings: h.settings, clock: h.clock, baseUrl: h.baseUrl });
  const ctx = await contextFor(event, 'stripe');
  return h.loaded.providers.get('stripe').isAllowed(ctx, { total: { amount: total, currency: event.currency }, now: h.clock.now() });
}

export type { OrderPayment };
