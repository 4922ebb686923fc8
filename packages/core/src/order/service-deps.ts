import type { DataSource } from 'typeorm';
import type { Clock } from '../clock';
import type { ProviderContextFactory, ProviderLookup } from '../provider/provider-registry.types';
import type { Persistence } from '../persistence/kernel';

/** What every domain service is built from; passed in by createKassaCore, never a module singleton. */
export interface ServiceDeps {
  readonly dataSource: DataSource;
  readonly providers: ProviderLookup;
  readonly providerContext: ProviderContextFactory;
  readonly clock: Clock;
}

/** ServiceDeps plus the per-instance persistence state createKassaCore makes (batcher, caches). */
export interface CoreDeps extends ServiceDeps {
  readonly persistence: Persistence;
}
