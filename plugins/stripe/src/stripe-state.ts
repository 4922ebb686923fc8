import type { PluginJobRuntime, PluginRuntime, PluginSetupContext } from '@kassa/core';
import type { AccountContext } from './stripe-account-context';
import { InboxWriter } from './webhooks/inbox-writer';

/**
 * What the Stripe plugin keeps per host (the plugin's `setup`): short-lived caches of account
 * contexts and webhook secrets, the one-time move of legacy secrets, and the inbox's group-commit
 * writer. Created when the host builds the plugin's runtime and closed with the host, never
 * module-global, so two hosts in one process (tests, tenants) share nothing.
 */
export interface StripeState {
  readonly contexts: Map<string, { ctx: AccountContext; until: number }>;
  readonly secrets: Map<string, { secrets: string[]; until: number }>;
  legacyMove: Promise<void> | null;
  readonly inbox: InboxWriter;
  close(): Promise<void>;
}

export type StripeRuntime = PluginRuntime<StripeState>;
export type StripeJobRuntime = PluginJobRuntime<StripeState>;

export function createStripeState(ctx: PluginSetupContext): StripeState {
  const inbox = new InboxWriter(ctx.db);
  const state: StripeState = {
    contexts: new Map(),
    secrets: new Map(),
    legacyMove: null,
    inbox,
    async close() {
      await inbox.drain();
      state.contexts.clear();
      state.secrets.clear();
    },
  };
  return state;
}
