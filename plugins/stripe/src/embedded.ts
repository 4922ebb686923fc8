import { globalSettings, type EmbeddedDefault, type EmbeddedDefaultHost } from '@kassa/core';
import { startEmulator } from '@kassa/stripe-emulator';
import { createWebhookEndpoint } from './routes/control-routes';
import { STRIPE_NAMESPACE } from './stripe-account-context';
import type { StripeState } from './stripe-state';

/** The secret key of the embedded default; any other globally configured key means "not embedded". */
export const EMBEDDED_STRIPE_KEY = 'sk_test_kassaEmbedded';

/**
 * Settings for the embedded default (no Stripe keys configured): the test keys of an in-process
 * emulator, its API as apiBase and its Stripe.js double. Written at the global level; the emulator
 * refuses live keys, so nothing here can reach the real Stripe.
 */
export function embeddedStripeSettings(emulator: { url: string; stripeJsUrl: string; keysFor(secretKey: string): { publishableKey: string } }, secretKey = EMBEDDED_STRIPE_KEY): Record<string, unknown> {
  return {
    _enabled: true,
    secretKey,
    publishableKey: emulator.keysFor(secretKey).publishableKey,
    apiBase: emulator.url,
    stripeJsUrl: emulator.stripeJsUrl,
  };
}

/**
 * The embedded default (`pnpm start` with nothing configured): starts the offline emulator and
 * points the global Stripe settings at it (its port changes on every start), unless the operator
 * configured other Stripe keys globally; then nothing is started. After the server listens, the
 * webhook endpoint is created at the emulator so events flow back; when that fails (the host logs
 * it), the polling job still keeps payments up to date.
 */
export async function stripeEmbeddedDefault(host: EmbeddedDefaultHost): Promise<EmbeddedDefault<StripeState> | null> {
  const current = await host.globalSettings.read(STRIPE_NAMESPACE);
  if (typeof current.secretKey === 'string' && current.secretKey !== EMBEDDED_STRIPE_KEY) return null;
  const emulator = await startEmulator({ banner: false });
  try {
    await host.globalSettings.write(embeddedStripeSettings(emulator), STRIPE_NAMESPACE);
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
        // The host logs it; the plugin's polling job still keeps payments up to date.
        throw new Error(`webhook endpoint not created, payments are polled instead: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
    close: () => emulator.close(),
  };
}
