import { KassaError } from '../errors';
import { assertSameCurrency } from '../money/money';
import type { BasePaymentProvider } from './base-payment-provider';
import { toCommonSettings } from './provider-settings';
import type { AvailabilityQuery, ProviderContext } from './provider-types';

/** Why a provider is not offered; stable values the server can translate. */
export type AvailabilityRefusal =
  | 'disabled' | 'not_yet_available' | 'no_longer_available' | 'below_minimum' | 'above_maximum'
  | 'country_unknown' | 'country_restricted' | 'provider_refused';

export type AvailabilityResult =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: AvailabilityRefusal; readonly detail: string };

/**
 * Whether a provider may be offered (checkout) or used (paying an existing order), after pretix's
 * `is_allowed`: enabled, then the availability window, the minimum and maximum total and the
 * country restriction from the framework settings, then the provider's own `isAllowed`.
 * `query.total` excludes this provider's fee and must be in the event's currency.
 *
 * A country restriction needs the buyer's country: when it is unknown the provider is refused
 * (a restriction that lets unknown buyers through would restrict nothing).
 */
export function checkAvailability(provider: BasePaymentProvider, ctx: ProviderContext, query: AvailabilityQuery): AvailabilityResult {
  // A context without `common` (built by hand in a test) carries the defaults.
  const common = ctx.common ?? toCommonSettings({}, provider.enabledByDefault);
  assertSameCurrency(query.total, ctx.event.currency);
  const now = query.now.getTime();
  const total = query.total.amount;

  if (!common.enabled) return refusal('disabled', `${provider.identifier} is not enabled for this event`);
  if (common.availabilityStart && now < common.availabilityStart.getTime()) {
    return refusal('not_yet_available', `available from ${common.availabilityStart.toISOString()}`);
  }
  if (common.availabilityEnd && now > common.availabilityEnd.getTime()) {
    return refusal('no_longer_available', `available until ${common.availabilityEnd.toISOString()}`);
  }
  if (common.totalMin !== null && total < common.totalMin) return refusal('below_minimum', `total ${total} is below the minimum ${common.totalMin}`);
  if (common.totalMax !== null && total > common.totalMax) return refusal('above_maximum', `total ${total} is above the maximum ${common.totalMax}`);
  if (common.restrictedCountries.length > 0) {
    if (!query.country) return refusal('country_unknown', `only for buyers in ${common.restrictedCountries.join(', ')}, and the country is unknown`);
    if (!common.restrictedCountries.includes(query.country.toUpperCase())) {
      return refusal('country_restricted', `not available in ${query.country.toUpperCase()}`);
    }
  }
  if (!provider.isAllowed(ctx, query)) return refusal('provider_refused', `${provider.identifier} is not available for this order`);
  return { allowed: true };
}

function refusal(reason: AvailabilityRefusal, detail: string): AvailabilityResult {
  return { allowed: false, reason, detail };
}

/** checkAvailability, refusing with PAYMENT_PROVIDER_NOT_ALLOWED (naming the provider and the reason). */
export function assertAvailable(provider: BasePaymentProvider, ctx: ProviderContext, query: AvailabilityQuery): void {
  const result = checkAvailability(provider, ctx, query);
  if (!result.allowed) throw new KassaError('PAYMENT_PROVIDER_NOT_ALLOWED', { provider: provider.identifier, reason: result.detail });
}
