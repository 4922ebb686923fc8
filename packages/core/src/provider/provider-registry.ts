import { KassaError } from '../errors';
import type { BasePaymentProvider } from './base-payment-provider';
import type { AnyPaymentProvider } from '../plugin/plugin-manifest';
import type { ProviderLookup } from './provider-registry.types';

/** Lowercase letters, digits, "_" and "-", starting with a letter; at most 64 characters. */
export const providerIdentifierPattern = /^[a-z][a-z0-9_-]{0,63}$/;

/**
 * The providers of one running Kassa, keyed by identifier. Built once at boot by loadPlugins (or
 * directly in a test); there is no global instance.
 */
export class ProviderRegistry implements ProviderLookup {
  private readonly byId = new Map<string, BasePaymentProvider>();

  constructor(providers: Iterable<AnyPaymentProvider> = []) {
    for (const provider of providers) this.add(provider as BasePaymentProvider);
  }

  /** Refuses an identifier that is registered already (PLUGIN_DUPLICATE) or malformed (PLUGIN_INVALID). */
  private add(provider: BasePaymentProvider): void {
    const id = provider.identifier;
    if (typeof id !== 'string' || !providerIdentifierPattern.test(id)) {
      throw new KassaError('PLUGIN_INVALID', { plugin: String(id), reason: `provider identifier must match ${providerIdentifierPattern.source}` });
    }
    if (this.byId.has(id)) throw new KassaError('PLUGIN_DUPLICATE', { name: `provider ${id}` });
    this.byId.set(id, provider);
  }

  /** The provider, or PAYMENT_PROVIDER_UNKNOWN naming the identifier. */
  get(identifier: string): BasePaymentProvider {
    const provider = this.byId.get(identifier);
    if (!provider) throw new KassaError('PAYMENT_PROVIDER_UNKNOWN', { provider: identifier });
    return provider;
  }

  has(identifier: string): boolean {
    return this.byId.has(identifier);
  }

  /** Every provider, in checkout order: higher priority first, then by verbose name (as pretix). */
  list(): BasePaymentProvider[] {
    return [...this.byId.values()].sort((a, b) => b.priority - a.priority || a.verboseName.localeCompare(b.verboseName, 'en') || a.identifier.localeCompare(b.identifier));
  }
}
