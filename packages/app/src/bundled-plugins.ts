import type { Plugin } from '@kassa/core/host';
import bankTransferPlugin from '@kassa/plugin-banktransfer';
import stripePlugin from '@kassa/plugin-stripe';

/**
 * The plugins this distribution ships with; `pnpm start`, the worker, the operator CLI and the
 * e2e tests load the same list. The only place that names a plugin. Their providers are disabled
 * per organizer until the organizer enables them (`_enabled`), like every payment provider.
 */
export const bundledPlugins: readonly Plugin[] = [stripePlugin, bankTransferPlugin];
