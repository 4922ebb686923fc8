import { definePlugin, globalSettings, type EmbeddedDefault, type EmbeddedDefaultHost, type Plugin } from '@kassa/core/host';
import { createWebhookEndpoint, embeddedStripeSettings } from '@kassa/plugin-stripe';
import { startEmulator } from '@kassa/stripe-emulator';

/*
 * TEMPORARY, until the Stripe plugin declares its own embeddedDefault hook (the "port" work of
 * issue 12): the same behaviour as that hook, attached here so the distribution already starts
 * everything through the generic hook. withEmbeddedDefault leaves a plugin that has its own hook
 * untouched, so once the plugin ships it, this file and the emulator dependency of @kassa/app go.
 */

/** The secret key of the embedded default's emulator account (test mode only: the emulator refuses live keys). */
const EMBEDDED_STRIPE_KEY = 'sk_test_kassaEmbedded';

/** The Stripe plugin with the embedded-default hook, unless it has one itself. */
export function withEmbeddedDefault(plugin: Plugin): Plugin {
  if (plugin.embeddedDefault) return plugin;
  return definePlugin({ ...plugin, embeddedDefault: embeddedStripe });
}

/**
 * No Stripe account: the plugin talks to an in-process emulator. Its port changes on every start,
 * so the global settings are refreshed each time, unless someone configured other Stripe keys
 * globally (then nothing is started). After listen, the webhook endpoint is created at the fresh
 * emulator with the plugin's own function, so events flow back to this instance.
 */
async function embeddedStripe(host: EmbeddedDefaultHost): Promise<EmbeddedDefault | null> {
  const current = await host.globalSettings.read();
  if (typeof current.secretKey === 'string' && current.secretKey !== EMBEDDED_STRIPE_KEY) return null;
  const emulator = await startEmulator({ banner: false });
  try {
    await host.globalSettings.write(embeddedStripeSettings(emulator, EMBEDDED_STRIPE_KEY));
  } catch (err) {
    await emulator.close();
    throw err;
  }
  host.log.info(`offline emulator at ${emulator.url} (test cards such as 4242 4242 4242 4242; no real money)`);
  return {
    async afterListen(rt) {
      try {
        await createWebhookEndpoint(rt, globalSettings);
      } catch (err) {
        // The plugin's polling job still keeps payments up to date.
        throw new Error(`webhook endpoint not created, payments are polled instead: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
    close: () => emulator.close(),
  };
}
