import type { Event } from '../event/event.entity';
import type { BasePaymentProvider } from './base-payment-provider';
import type { ProviderContext } from './provider-types';

/**
 * What the domain services need from the provider registry: look a provider up by identifier.
 * `get` throws the catalogued PAYMENT_PROVIDER_UNKNOWN error for an identifier that is not registered;
 * services call `has` first when they want to refuse with their own context.
 */
export interface ProviderLookup {
  get(identifier: string): BasePaymentProvider;
  has(identifier: string): boolean;
}

/**
 * Builds the context (event, merged settings, clock, base URL) a provider sees for one call.
 * Services call it outside any database transaction.
 */
export type ProviderContextFactory = (event: Event, providerId: string) => Promise<ProviderContext>;
