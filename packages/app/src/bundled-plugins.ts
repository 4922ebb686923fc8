import type { Plugin } from '@kassa/core/host';
import stripePlugin from '@kassa/plugin-stripe';

/**
 * The plugins this distribution ships with; `pnpm start`, the worker, the operator CLI and the
 * e2e tests load the same list. The only place that names a plugin.
 */
export const bundledPlugins: readonly Plugin[] = [stripePlugin];
